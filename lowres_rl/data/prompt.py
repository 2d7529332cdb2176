"""Chat prompts for the policy: system prompt, few-shot turns and the response format.

    from lowres_rl.data.prompt import build_messages
    messages = build_messages("A crate holds 24 jars ...", "prolog", variant="paper", shots=2)
    tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)

Two response formats (VARIANTS): "paper" (<reasoning>, <code>, <query>) and "answer" (<reasoning>,
then <answer> holding the whole program, evaluated with the language's default query). The format
instructions are prompts/formats.md, one `## <variant>` section each with the placeholders
`{language}` and `{default_query}`. A language's conventions and worked examples are its prompt
file (Language.prompt_file(); prompts/<name>.md for the built-ins): a `# <Display name>` title,
`## conventions`, then one or more `## example` sections, each holding `### question`,
`### reasoning`, `### code` and `### query` in that order. Lines inside ``` fences are never
headings, and a part whose whole body is one fenced block is unwrapped (code may be fenced).

Two prompt styles (STYLES): "full" (formats.md, then the language's conventions: rich, 500-800
tokens with Qwen's tokenizer) and "compact" (prompts/compact.md: about 100 tokens, the paper's
budget, with a one-line hint per language). Both ask for the same tags, and few-shot examples are
the same in both.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from lowres_rl.languages import Language, get_language
from lowres_rl.languages.resources import resource

VARIANTS = ("paper", "answer")
STYLES = ("full", "compact")
PARTS = ("question", "reasoning", "code", "query")

_HEADING = re.compile(r"^(#{1,3})[ \t]+(\S.*?)[ \t]*$")
_FENCE = "```"


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


class _Section(NamedTuple):
    """A heading (level: its number of '#', 0 for the text before the first one) and its body."""

    level: int
    name: str
    body: str
    line: int


def _unfence(text: str) -> str:
    """Strip blank edges, and the fence lines if the whole text is one fenced block."""
    text = text.strip()
    lines = text.splitlines()
    if len(lines) >= 2 and lines[0].startswith(_FENCE) and lines[-1].strip() == _FENCE \
            and not any(line.lstrip().startswith(_FENCE) for line in lines[1:-1]):
        return "\n".join(lines[1:-1]).strip("\n")
    return text


def _split(text: str) -> list[_Section]:
    """Cut Markdown at its headings (ignoring lines inside fences)."""
    cuts: list[tuple[int, str, int, list[str]]] = [(0, "", 0, [])]
    fenced = False
    for number, line in enumerate(text.splitlines(), start=1):
        fenced ^= line.lstrip().startswith(_FENCE)
        match = None if fenced else _HEADING.match(line)
        if match:
            cuts.append((len(match[1]), match[2], number, []))
        else:
            cuts[-1][3].append(line)
    return [_Section(level, name, _unfence("\n".join(body)), line) for level, name, line, body in cuts]


def _fail(path: Path, section: _Section | None, problem: str) -> ValueError:
    """A ValueError naming the file (and line) and the problem."""
    where = f"{path}:{section.line}" if section else str(path)
    return ValueError(f"malformed prompt file {where}: {problem}")


def _examples(path: Path, sections: list[_Section]) -> tuple[Example, ...]:
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


def _parse(path: Path, sections: list[_Section]) -> PromptSpec:
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
    return _parse(path, _split(path.read_text(encoding="utf-8")))


@functools.lru_cache(maxsize=None)
def _load_formats(path: Path) -> dict[str, str]:
    """The `## <variant>` sections of formats.md (text before the first one is a comment)."""
    sections = {s.name.lower(): s.body for s in _split(path.read_text(encoding="utf-8")) if s.level == 2}
    for variant in VARIANTS:
        if not sections.get(variant):
            raise ValueError(f"malformed formats file {path}: missing or empty '## {variant}' section")
    return sections


@functools.lru_cache(maxsize=None)
def _load_compact(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """compact.md: its `## <variant>` formats, and its `### <language>` hints under `## hints`."""
    formats: dict[str, str] = {}
    hints: dict[str, str] = {}
    under_hints = False
    for section in _split(path.read_text(encoding="utf-8")):
        if section.level == 2:
            under_hints = section.name.lower() == "hints"
            if not under_hints:
                formats[section.name.lower()] = section.body
        elif section.level == 3 and under_hints:
            hints[section.name.lower()] = section.body
    for variant in VARIANTS:
        if not formats.get(variant):
            raise ValueError(f"malformed compact prompt file {path}: missing or empty '## {variant}' section")
    return formats, hints


def _check_variant(variant: str) -> None:
    """Raise ValueError naming `variant` and the allowed ones unless it is known."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown prompt variant {variant!r}; expected one of: {', '.join(VARIANTS)}")


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
    """The system prompt for `language`: in the full style the variant's format instructions, then
    the language's conventions; in the compact style compact.md's format and the language's hint."""
    _check_variant(variant)
    if style not in STYLES:
        raise ValueError(f"unknown prompt style {style!r}; expected one of: {', '.join(STYLES)}")
    lang = _language(language)
    spec = load_prompt(lang.prompt_file())
    if style == "compact":
        formats, hints = _load_compact(resource("prompts", "compact.md"))
        text = formats[variant].replace("{hint}", hints.get(lang.name, "")).strip()
    else:
        text = _load_formats(resource("prompts", "formats.md"))[variant]
    text = text.replace("{language}", spec.title).replace("{default_query}", shown_query(lang))
    return text if style == "compact" else f"{text}\n\n{spec.conventions}"


def render_response(example: Example, variant: str = "paper") -> str:
    """The assistant turn for `example` in the variant's response format."""
    _check_variant(variant)
    reasoning = f"<reasoning>\n{example.reasoning}\n</reasoning>\n"
    if variant == "answer":
        return f"{reasoning}<answer>\n{example.code}\n</answer>"
    return f"{reasoning}<code>\n{example.code}\n</code>\n<query>\n{example.query}\n</query>"


def build_messages(question: str, language: Language | str, variant: str = "paper",
                   shots: int = 0, system: bool = True, style: str = "full") -> list[dict[str, str]]:
    """Chat messages: system prompt (of `style`), `shots` worked examples (user/assistant pairs),
    the question. `system=False` leaves out the system prompt (for tiny offline models
    warm-started without it)."""
    _check_variant(variant)
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
