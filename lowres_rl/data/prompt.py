"""Chat prompts for the policy: system prompt, few-shot turns and the response format.

    from lowres_rl.data.prompt import build_messages
    messages = build_messages("A crate holds 24 jars ...", "prolog", variant="paper", shots=2)
    tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)

The response formats are lowres_rl.grading.formats.FORMATS ("paper": <reasoning>, <code>,
<query>; "answer": <reasoning>, then <answer> holding the whole program, evaluated with the
language's default query): each serves its instructions (ResponseFormat.instructions, with the
placeholders `{language}` and `{default_query}` filled in here) and writes the few-shot turns
(ResponseFormat.render). A language's conventions and worked examples are its prompt
file (Language.prompt_file(); prompts/<name>.md for the built-ins): a `# <Display name>` title,
`## conventions`, then one or more `## example` sections, each holding `### question`,
`### reasoning`, `### code` and `### query` in that order. Lines inside ``` fences are never
headings, and a part whose whole body is one fenced block is unwrapped (code may be fenced).

Two prompt styles (STYLES): "full" (the format's instructions from prompts/formats.md, then the
language's conventions: rich, 500-800 tokens with Qwen's tokenizer) and "compact" (its
instructions from prompts/compact.md: about 100 tokens, the paper's budget, with the one-line hint
per language under compact.md's `## hints`). Both ask for the same tags, and few-shot examples are
the same in both.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lowres_rl.grading.formats import INSTRUCTION_FILES, get_format
from lowres_rl.grading.markdown import Section, split_sections
from lowres_rl.languages import Language, get_language
from lowres_rl.languages.resources import resource

STYLES = tuple(INSTRUCTION_FILES)
PARTS = ("question", "reasoning", "code", "query")


@dataclass(frozen=True)
class Example:
    """One worked example: a question and the response that solves it."""

    question: str
    reasoning: str
    code: str
    query: str


@dataclass(frozen=True)
class PromptSpec:
    """A parsed prompt file: display name, conventions text and worked examples."""

    title: str
    conventions: str
    examples: tuple[Example, ...]


def _fail(path: Path, section: Section | None, problem: str) -> ValueError:
    """A ValueError naming the file (and line) and the problem."""
    where = f"{path}:{section.line}" if section else str(path)
    return ValueError(f"malformed prompt file {where}: {problem}")


def _examples(path: Path, sections: list[Section]) -> tuple[Example, ...]:
    """Build the examples from the `## example` / `### <part>` sections."""
    examples: list[dict[str, str]] = []
    for section in sections:
        if (section.level, section.name.lower()) == (2, "example"):
            if section.body:
                raise _fail(path, section, "text directly under '## example' (put it in a '### ' part)")
            examples.append({})
            continue
        expected = PARTS[len(examples[-1])] if examples and len(examples[-1]) < len(PARTS) else None
        if section.level != 3 or section.name.lower() != expected:
            raise _fail(path, section, f"unexpected heading {'#' * section.level} {section.name!r}; "
                                       f"expected {'### ' + expected if expected else '## example'}")
        if not section.body:
            raise _fail(path, section, f"empty '### {expected}'")
        examples[-1][expected] = section.body
    if not examples:
        raise _fail(path, None, "no '## example' section")
    for number, parts in enumerate(examples, start=1):
        if len(parts) < len(PARTS):
            raise _fail(path, None, f"example {number} lacks '### {PARTS[len(parts)]}'")
    return tuple(Example(**parts) for parts in examples)


def _parse(path: Path, sections: list[Section]) -> PromptSpec:
    """Check the layout (title, conventions, examples) and build the PromptSpec."""
    preamble, *rest = sections
    if preamble.body or not rest or rest[0].level != 1:
        raise _fail(path, None, "the file must start with its '# <language>' title")
    title, *rest = rest
    if title.body:
        raise _fail(path, title, "text directly under the title (put it in '## conventions')")
    if not rest or (rest[0].level, rest[0].name.lower()) != (2, "conventions") or not rest[0].body:
        raise _fail(path, rest[0] if rest else title, "expected a non-empty '## conventions' after the title")
    return PromptSpec(title.name, rest[0].body, _examples(path, rest[1:]))


@functools.lru_cache(maxsize=None)
def load_prompt(path: Path) -> PromptSpec:
    """Parse a language prompt file (layout in the module docstring); cached per path. Raises
    ValueError naming the file and the problem when the layout is wrong."""
    path = Path(path)
    return _parse(path, split_sections(path.read_text(encoding="utf-8")))


@functools.lru_cache(maxsize=None)
def _load_hints(path: Path) -> dict[str, str]:
    """compact.md's one-line hints: the `### <language>` sections under `## hints`."""
    hints: dict[str, str] = {}
    under_hints = False
    for section in split_sections(path.read_text(encoding="utf-8")):
        if section.level == 2:
            under_hints = section.name.lower() == "hints"
        elif section.level == 3 and under_hints:
            hints[section.name.lower()] = section.body
    return hints


def _language(language: Language | str) -> Language:
    """A Language instance, resolving names through the registry."""
    return get_language(language) if isinstance(language, str) else language


def shown_query(language: Language | str) -> str:
    """The default query as written in prompts: with its full stop for languages whose queries
    end in one (those whose normalize_query strips it, i.e. Prolog: `solve(X).`)."""
    lang = _language(language)
    query = lang.default_query
    return query + "." if lang.normalize_query(query + ".") == query else query


def system_prompt(language: Language | str, variant: str = "paper", style: str = "full") -> str:
    """The system prompt for `language`: the variant's format instructions in `style`, then in the
    full style the language's conventions, in the compact style the language's hint."""
    text = get_format(variant).instructions(style)
    lang = _language(language)
    spec = load_prompt(lang.prompt_file())
    if style == "compact":
        text = text.replace("{hint}", _load_hints(resource("prompts", "compact.md")).get(lang.name, "")).strip()
    text = text.replace("{language}", spec.title).replace("{default_query}", shown_query(lang))
    return text if style == "compact" else f"{text}\n\n{spec.conventions}"


def render_response(example: Example, variant: str = "paper") -> str:
    """The assistant turn for `example` in the variant's response format."""
    return get_format(variant).render(example.reasoning, example.code, example.query)


def build_messages(question: str, language: Language | str, variant: str = "paper",
                   shots: int = 0, system: bool = True, style: str = "full") -> list[dict[str, str]]:
    """Chat messages: system prompt (of `style`), `shots` worked examples (user/assistant pairs),
    the question. `system=False` leaves out the system prompt (for tiny offline models
    warm-started without it)."""
    get_format(variant)  # an unknown variant fails before any file is read
    lang = _language(language)
    examples = load_prompt(lang.prompt_file()).examples
    if isinstance(shots, bool) or not isinstance(shots, int) or not 0 <= shots <= len(examples):
        raise ValueError(f"invalid shots {shots!r} for {lang.name}; "
                         f"expected an integer from 0 to {len(examples)}")
    messages = [{"role": "system", "content": system_prompt(lang, variant, style)}] if system else []
    for example in examples[:shots]:
        messages.append({"role": "user", "content": example.question})
        messages.append({"role": "assistant", "content": render_response(example, variant)})
    messages.append({"role": "user", "content": question})
    return messages


def prompt_token_ids(tokenizer: Any, messages: list[dict[str, str]]) -> list[int]:
    """Token ids of `messages` rendered with the chat template, ready for the assistant's turn."""
    text = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])
