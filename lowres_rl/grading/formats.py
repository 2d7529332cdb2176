"""Response formats: one ResponseFormat per prompt variant, all registered in FORMATS.

    fmt = get_format("paper")
    structure = fmt.analyse(text)                 # the one scan of a completion
    program = fmt.program(structure, language)    # what runs: the program block and its query
    fmt.is_strict(structure), fmt.score(structure, language.fence)
    fmt.instructions("full")                      # the format part of the system prompt
    fmt.render(reasoning, code, query)            # a response in this format (few-shot turns)
    extract_program(text, language)               # analyse + program, for one-off callers

Variants:
- "paper": `<reasoning>…</reasoning><code>…</code><query>…</query>`, the format of "From Reasoning
  to Code" (arXiv 2506.11027); the query block may be named `<funcall>`, as the paper's Lisp
  prompt names it.
- "answer": `<reasoning>…</reasoning><answer>…</answer>`: the whole program, run with the
  language's default query, so it must define the entry point `solve`.

Two readings of the same tags: the strict grammar (Lark, built from the format's blocks) accepts
exactly a well-formed response: the blocks in order, once each, only whitespace around them. The
lenient reading (lowres_rl.grading.response.analyse) records what any text holds, so the grader can
give partial credit. The grader reads strictness off the lenient reading (`is_strict(structure)`,
tested equal to the grammar's `parses(text)`), so each completion is scanned once per grading.

The instructions live in prompts/formats.md (the full prompt style) and prompts/compact.md (the
compact style), one `## <variant>` section each, with the placeholders `{language}` and
`{default_query}` (and `{hint}` in compact.md) that lowres_rl.data.prompt fills in.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Collection

from lark import Lark
from lark.exceptions import LarkError

from lowres_rl.grading.markdown import split_sections
from lowres_rl.grading.response import ALIASES, TAG_NAMES, Structure, analyse, fenced_blocks
from lowres_rl.languages.contract import Program
from lowres_rl.languages.resources import resource

if TYPE_CHECKING:
    from lowres_rl.languages.base import Language

# prompt style -> the prompts/ file holding every format's instructions in that style
INSTRUCTION_FILES = {"full": "formats.md", "compact": "compact.md"}


@dataclass(frozen=True)
class ResponseFormat:
    """One response format: its blocks, how to read a program from them, its instructions."""

    name: str
    blocks: tuple[str, ...]  # the required blocks, in order
    # (block, whether the query block goes with it) a program is read from, in preference: the
    # format's own first, then the other format's, so that a model mixing the two formats up
    # still has its program run (the format score is what tells the formats apart)
    readings: tuple[tuple[str, bool], ...]

    @property
    def program_block(self) -> str:
        """The block this format asks the program to be written in."""
        return self.readings[0][0]

    def analyse(self, text: str) -> Structure:
        """The lenient reading of `text`: the one scan every verdict below reads from."""
        return analyse(text)

    def parses(self, text: str) -> bool:
        """The strict grammar's verdict: exactly this format's blocks, in order, whitespace around."""
        try:
            _parser(self.blocks).parse(text)
        except LarkError:
            return False
        return True

    def is_strict(self, structure: Structure) -> bool:
        """`parses(text)`'s verdict, read off the text's structure without parsing again."""
        return (structure.blocks == list(self.blocks) and not structure.stray_tags
                and not (structure.leading or structure.between or structure.trailing))

    def in_order(self, structure: Structure) -> bool:
        """This format's blocks each appear exactly once, in the required order."""
        return [b for b in structure.blocks if b in self.blocks] == list(self.blocks)

    def program(self, structure: Structure, language: Language) -> Program:
        """The program to run: the first non-empty block of `readings`, with the query block when
        that block takes one (an empty query block means the default query); without tags, the
        first fenced block tagged with one of the language's fences (or untagged)."""
        query = structure.contents.get("query") or None
        for block, queried in self.readings:
            if structure.contents.get(block):
                return Program(structure.contents[block], query if queried else None)
        for tag, content in fenced_blocks(structure.text):
            if (not tag or tag in language.fence) and content.strip():
                return Program(content.strip(), query)
        return Program("", error=f"no <{self.program_block}> block and no fenced code block in the response")

    def score(self, structure: Structure, fences: Collection[str] = ()) -> float:
        """The format score, 0..1: 0.6 shared among the required blocks, each present exactly once
        and non-empty; 0.2 when they come in order; 0.2 when nothing else is there (no text
        before, between or after them, no stray tag, and the program block's fence, if tagged,
        is one of `fences`: the language's, Language.fence)."""
        s = structure
        per_block = 0.6 / len(self.blocks)
        score = sum(per_block for b in self.blocks if s.count(b) == 1 and s.contents.get(b, "").strip())
        score += 0.2 if self.in_order(s) else 0.0
        fence = s.fences.get(self.program_block)
        clean = (not s.leading and not s.between and not s.trailing and not s.stray_tags
                 and (not fence or fence in fences))
        score += 0.2 if clean and s.blocks else 0.0
        return round(score, 6)

    def instructions(self, style: str = "full") -> str:
        """The format part of the system prompt in prompt `style` (INSTRUCTION_FILES), with its
        placeholders unfilled. Raises ValueError for an unknown style or a missing section."""
        if style not in INSTRUCTION_FILES:
            raise ValueError(f"unknown prompt style {style!r}; expected one of: {', '.join(INSTRUCTION_FILES)}")
        file = INSTRUCTION_FILES[style]
        text = _sections(file).get(self.name)
        if not text:
            raise ValueError(f"malformed prompt file prompts/{file}: missing or empty '## {self.name}' "
                             f"section (the {self.name!r} format's {style} instructions)")
        return text

    def render(self, reasoning: str, code: str, query: str) -> str:
        """A well-formed response of this format (the query is left out where it has no block)."""
        contents = {"reasoning": reasoning, self.program_block: code, "query": query}
        return "\n".join(f"<{b}>\n{contents[b]}\n</{b}>" for b in self.blocks)


PAPER = ResponseFormat("paper", ("reasoning", "code", "query"), (("code", True), ("answer", False)))
ANSWER = ResponseFormat("answer", ("reasoning", "answer"), (("answer", False), ("code", True)))
FORMATS: dict[str, ResponseFormat] = {f.name: f for f in (PAPER, ANSWER)}


def get_format(name: str) -> ResponseFormat:
    """The response format of variant `name`; ValueError naming it and the known ones if unknown."""
    try:
        return FORMATS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown response format (variant) {name!r}; "
                         f"expected one of: {', '.join(FORMATS)}") from None


def extract_program(text: str, language: Language, variant: str = "paper") -> Program:
    """The program in a response of `variant` (see ResponseFormat.program)."""
    fmt = get_format(variant)
    return fmt.program(fmt.analyse(text), language)


def is_strict(text: str, variant: str = "paper") -> bool:
    """The whole text is exactly the variant's blocks, in order, once each, whitespace around."""
    return get_format(variant).parses(text)


@functools.cache
def _parser(blocks: tuple[str, ...]) -> Lark:
    return Lark(_grammar(blocks), start="start", parser="lalr", lexer="contextual")


def _grammar(blocks: tuple[str, ...]) -> str:
    """The strict grammar of a format with `blocks`: block text is anything but a tag of any format
    (the lenient reading splits at the same tags, which is why the two readings agree)."""
    tags = "|".join(TAG_NAMES)
    rules = ["start: " + " ".join(f"_ws? {b}" for b in blocks) + " _ws?", "_ws: WS", r"WS: /\s+/",
             rf"TEXT: /(?:(?!<\/?(?:{tags})>)[\s\S])+/"]
    for block in blocks:
        names = (block, *(alias for alias, target in ALIASES.items() if target == block))
        up = block.upper()
        rules += [f"{block}: OPEN_{up} TEXT? CLOSE_{up}",
                  f"OPEN_{up}: " + " | ".join(f'"<{n}>"' for n in names),
                  f"CLOSE_{up}: " + " | ".join(f'"</{n}>"' for n in names)]
    return "\n".join(rules)


@functools.cache
def _sections(file: str) -> dict[str, str]:
    """The `## <name>` sections of a prompts/ file, by lower-cased name."""
    text = resource("prompts", file).read_text(encoding="utf-8")
    return {s.name.lower(): s.body for s in split_sections(text) if s.level == 2}
