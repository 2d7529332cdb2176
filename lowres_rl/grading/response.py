"""The response format: reasoning, code and query blocks, as a Lark grammar.

    structure = analyse(text)                  # which blocks, in order, once, what trails
    program = extract_program(text, language)  # lenient: tags, else a fenced code block

The paper's format (variant "paper") is `<reasoning>…</reasoning><code>…</code><query>…</query>`;
variant "answer" is `<reasoning>…</reasoning><answer>…</answer>` with a `solve` entry point. The
paper's Lisp prompt names the query block `<funcall>`: it is accepted as an alias of `<query>`.
Block contents may be wrapped in a Markdown fence (```prolog … ```), which is unwrapped.

Two readings of the same tags: the strict grammar accepts exactly a well-formed response (blocks in
order, once each, only whitespace around them); the lenient reading walks the tags of any text and
records what is there, so the grader can give partial credit. The grader reads strictness off the
lenient reading (`Structure.is_strict`, tested equal to the grammar): the lenient reading is one
regular-expression split plus string scans, linear in the text whatever its shape.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterator

from lark import Lark
from lark.exceptions import LarkError

if TYPE_CHECKING:
    from lowres_rl.languages.base import Language
    from lowres_rl.languages.contract import Program

BLOCKS = ("reasoning", "code", "query", "answer")
ALIASES = {"funcall": "query"}
VARIANT_BLOCKS = {"paper": ("reasoning", "code", "query"), "answer": ("reasoning", "answer")}

GRAMMAR = r"""
paper: _ws? reasoning _ws? code _ws? query _ws?
answer_format: _ws? reasoning _ws? answer _ws?

reasoning: OPEN_REASONING TEXT? CLOSE_REASONING
code: OPEN_CODE TEXT? CLOSE_CODE
query: OPEN_QUERY TEXT? CLOSE_QUERY
answer: OPEN_ANSWER TEXT? CLOSE_ANSWER
_ws: WS

OPEN_REASONING: "<reasoning>"
CLOSE_REASONING: "</reasoning>"
OPEN_CODE: "<code>"
CLOSE_CODE: "</code>"
OPEN_QUERY: "<query>" | "<funcall>"
CLOSE_QUERY: "</query>" | "</funcall>"
OPEN_ANSWER: "<answer>"
CLOSE_ANSWER: "</answer>"
WS: /\s+/
TEXT: /(?:(?!<\/?(?:reasoning|code|query|funcall|answer)>)[\s\S])+/
"""

_FENCE_TAG = re.compile(r"[\w+#.-]*")  # the info string of a fence: ```prolog, ```c++, ``` (none)
_FENCE_OPEN = re.compile(r"```[ \t]*+([\w+#.-]*+)[ \t]*+\n")  # possessive: 64k blanks cost 64k steps


@functools.cache
def _parser(variant: str) -> Lark:
    start = {"paper": "paper", "answer": "answer_format"}[variant]
    return Lark(GRAMMAR, start=start, parser="lalr", lexer="contextual")


_TAG = re.compile(r"<(/?)(reasoning|code|query|funcall|answer)>")  # the grammar's tag terminals


@dataclass
class Structure:
    """What a response holds. `blocks` lists complete blocks in order of appearance; contents are
    those of each block's first occurrence, fence unwrapped; `fences` the fence tags seen."""

    blocks: list[str] = field(default_factory=list)
    contents: dict[str, str] = field(default_factory=dict)
    fences: dict[str, str] = field(default_factory=dict)
    stray_tags: int = 0          # an opening tag never closed, or a closing tag never opened
    leading: int = 0             # non-blank characters before the first block
    between: int = 0             # non-blank characters between blocks
    trailing: int = 0            # characters (after stripping) after the last closing tag
    trailing_text: str = ""

    def count(self, block: str) -> int:
        return self.blocks.count(block)

    def is_strict(self, variant: str = "paper") -> bool:
        """`is_strict(text)`'s verdict (the grammar's), read off this structure without parsing
        again: the variant's blocks, once each, in order, nothing but whitespace around them."""
        return (self.blocks == list(VARIANT_BLOCKS[variant]) and not self.stray_tags
                and not (self.leading or self.between or self.trailing))

    def in_order(self, variant: str = "paper") -> bool:
        """The variant's blocks each appear exactly once, in the required order."""
        wanted = VARIANT_BLOCKS[variant]
        seen = [b for b in self.blocks if b in wanted]
        return seen == list(wanted)


def is_strict(text: str, variant: str = "paper") -> bool:
    """The whole text is exactly the variant's blocks, in order, once each, whitespace around."""
    try:
        _parser(variant).parse(text)
    except LarkError:
        return False
    return True


def analyse(text: str) -> Structure:
    """Lenient reading: every complete block, stray tags and the text outside blocks. The tags are
    the grammar's terminals, split out by one regular-expression pass: linear in the text."""
    structure = Structure()
    open_block: str | None = None
    body: list[str] = []
    outside: list[tuple[int, str]] = []  # (blocks seen so far, text) for text outside any block
    parts = _TAG.split(text)  # text, then (slash, name, text) for each tag
    if parts[0]:
        outside.append((0, parts[0]))
    for i in range(1, len(parts), 3):
        closing, name, after = parts[i], ALIASES.get(parts[i + 1], parts[i + 1]), parts[i + 2]
        if not closing:
            if open_block:  # a block opened inside another: the outer one was never closed
                structure.stray_tags += 1
            open_block, body = name, []
        elif open_block == name:
            _close(structure, name, "".join(body))
            open_block = None
        else:
            structure.stray_tags += 1
        if after:
            if open_block:
                body.append(after)
            else:
                outside.append((len(structure.blocks), after))
    if open_block:
        structure.stray_tags += 1
        outside.append((len(structure.blocks), "".join(body)))
    _measure_outside(structure, outside)
    return structure


def _close(structure: Structure, name: str, body: str) -> None:
    structure.blocks.append(name)
    if name not in structure.contents:
        content, fence = unfence(body)
        structure.contents[name] = content
        if fence is not None:
            structure.fences[name] = fence


def _measure_outside(structure: Structure, outside: list[tuple[int, str]]) -> None:
    total = len(structure.blocks)
    for seen, text in outside:
        size = len(text.strip())
        if seen == 0 and total:
            structure.leading += size
        elif seen == total and total:
            structure.trailing += size
            structure.trailing_text += text
        elif total:
            structure.between += size
        else:
            structure.leading += size


def unfence(text: str) -> tuple[str, str | None]:
    """Strip one Markdown fence wrapping the whole text; returns (content, fence tag or None)."""
    stripped = text.strip()
    opened = _fence_at(stripped, 0) if stripped.endswith("```") else None
    if opened is not None and opened[1] <= len(stripped) - 3:
        tag, start = opened
        return stripped[start:len(stripped) - 3].strip(), tag
    return stripped, None


def _fence_at(text: str, at: int) -> tuple[str, int] | None:
    """The fence opened by the ``` at `at`: (tag, where its content starts), or None when the rest
    of that line is not a tag."""
    end = text.find("\n", at + 3)
    if end < 0:
        return None
    tag = text[at + 3:end].strip(" \t")
    return (tag.lower(), end + 1) if _FENCE_TAG.fullmatch(tag) else None


def fenced_blocks(text: str) -> Iterator[tuple[str, str]]:
    """(tag, content) of every closed Markdown fence, in order. The opener's pattern is possessive
    (no backtracking over blanks) and each fence costs one search and one find: linear in the text."""
    opened = _FENCE_OPEN.search(text)
    while opened:
        close = text.find("```", opened.end())
        if close < 0:
            return
        yield opened.group(1).lower(), text[opened.end():close]
        opened = _FENCE_OPEN.search(text, close + 3)


def extract_program(text: str, language: "Language") -> "Program":
    """The program in a response: the code (or answer) block and the query block; without tags,
    the first fenced block tagged with one of the language's fences (or untagged)."""
    from lowres_rl.languages.contract import Program

    structure = analyse(text)
    query = structure.contents.get("query") or None
    for block in ("code", "answer"):
        if structure.contents.get(block):
            return Program(structure.contents[block], query if block == "code" else None)
    for tag, content in fenced_blocks(text):
        if (not tag or tag in language.fence) and content.strip():
            return Program(content.strip(), query)
    return Program("", error="no <code> block and no fenced code block in the response")
