"""Markdown cut at its headings: the reader of the prompt files under prompts/.

    sections = split_sections(path.read_text(encoding="utf-8"))
    [(s.level, s.name) for s in sections]   # [(0, ""), (1, "Prolog"), (2, "conventions"), ...]

One reader for every prompt file, so that the response formats (their instructions in formats.md
and compact.md, lowres_rl.grading.formats) and the prompt builder (the languages' prompt files,
lowres_rl.data.prompt) cut Markdown the same way. It lives in grading, the lower of the two layers.
Lines inside ``` fences are never headings, and a body that is one fenced block is unwrapped.
"""
from __future__ import annotations

import re
from typing import NamedTuple

_HEADING = re.compile(r"^(#{1,3})[ \t]+(\S.*?)[ \t]*$")
_FENCE = "```"


class Section(NamedTuple):
    """A heading (level: its number of '#', 0 for the text before the first one) and its body."""

    level: int
    name: str
    body: str
    line: int


def unfence_block(text: str) -> str:
    """Strip blank edges, and the fence lines if the whole text is one fenced block."""
    text = text.strip()
    lines = text.splitlines()
    if len(lines) >= 2 and lines[0].startswith(_FENCE) and lines[-1].strip() == _FENCE \
            and not any(line.lstrip().startswith(_FENCE) for line in lines[1:-1]):
        return "\n".join(lines[1:-1]).strip("\n")
    return text


def split_sections(text: str) -> list[Section]:
    """Cut Markdown at its headings of levels 1 to 3 (ignoring lines inside fences)."""
    cuts: list[tuple[int, str, int, list[str]]] = [(0, "", 0, [])]
    fenced = False
    for number, line in enumerate(text.splitlines(), start=1):
        fenced ^= line.lstrip().startswith(_FENCE)
        match = None if fenced else _HEADING.match(line)
        if match:
            cuts.append((len(match[1]), match[2], number, []))
        else:
            cuts[-1][3].append(line)
    return [Section(level, name, unfence_block("\n".join(body)), line) for level, name, line, body in cuts]
