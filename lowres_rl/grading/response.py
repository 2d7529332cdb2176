"""The tags of a response, read leniently: which blocks, in order, their contents, what is outside.

    structure = analyse(text)   # blocks, contents (fence unwrapped), fences, stray tags, outside text

The blocks are those of every response format (lowres_rl.grading.formats): reasoning, code, query
and answer. The paper's Lisp prompt names the query block `<funcall>`: it is read as `<query>`.
Block contents may be wrapped in a Markdown fence (```prolog … ```), which is unwrapped.

This is the low floor of the formats: it knows tags and fences, not which blocks a format wants.
A format (lowres_rl.grading.formats.ResponseFormat) reads its verdicts off a Structure (strict,
in order, its format score, its program), so a completion is scanned once. The scan is one
regular-expression split plus string scans, linear in the text whatever its shape.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterator

BLOCKS = ("reasoning", "code", "query", "answer")
ALIASES = {"funcall": "query"}
TAG_NAMES = BLOCKS + tuple(ALIASES)  # every tag name a response may use

_FENCE_TAG = re.compile(r"[\w+#.-]*")  # the info string of a fence: ```prolog, ```c++, ``` (none)
_FENCE_OPEN = re.compile(r"```[ \t]*+([\w+#.-]*+)[ \t]*+\n")  # possessive: 64k blanks cost 64k steps
_TAG = re.compile(rf"<(/?)({'|'.join(TAG_NAMES)})>")  # the formats' grammars have these tag terminals


@dataclass
class Structure:
    """What a response holds. `blocks` lists complete blocks in order of appearance; contents are
    those of each block's first occurrence, fence unwrapped; `fences` the fence tags seen; `text`
    the response itself (a program may be read from a fence outside any block)."""

    blocks: list[str] = field(default_factory=list)
    contents: dict[str, str] = field(default_factory=dict)
    fences: dict[str, str] = field(default_factory=dict)
    stray_tags: int = 0          # an opening tag never closed, or a closing tag never opened
    leading: int = 0             # non-blank characters before the first block
    between: int = 0             # non-blank characters between blocks
    trailing: int = 0            # characters (after stripping) after the last closing tag
    trailing_text: str = ""
    text: str = field(default="", repr=False, compare=False)

    def count(self, block: str) -> int:
        return self.blocks.count(block)


def analyse(text: str) -> Structure:
    """Lenient reading: every complete block, stray tags and the text outside blocks. The tags are
    the formats' tag terminals, split out by one regular-expression pass: linear in the text."""
    structure = Structure(text=text)
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
