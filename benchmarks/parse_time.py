"""How long the grader's text work takes on 1 MB adversarial completions of many shapes.

    python benchmarks/parse_time.py

Every step the grader applies to a completion's text, each timed on each shape: the lenient
reading (response.analyse), program extraction (formats.extract_program), the strict grammar
(formats.is_strict), the paper preset's format checks, the literal reader of each language, and
the question-number reader (a question of the same shape). Parsing is linear: a regular expression
that backtracks (64k spaces after an unclosed fence took seconds before) shows up here first.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lowres_rl.grading.hardcoding import question_numbers  # noqa: E402
from lowres_rl.languages import get_language  # noqa: E402
from lowres_rl.grading.literals import literals  # noqa: E402
from lowres_rl.grading.presets import paper_soft_format, paper_strict_format, paper_xmlcount  # noqa: E402
from lowres_rl.grading.formats import extract_program, is_strict  # noqa: E402
from lowres_rl.grading.response import analyse  # noqa: E402

SIZE = 1 << 20


def _fill(unit: str, prefix: str = "", suffix: str = "") -> str:
    return prefix + unit * ((SIZE - len(prefix) - len(suffix)) // len(unit)) + suffix


SHAPES: dict[str, str] = {
    "unclosed fence, spaces": _fill(" ", "```"),
    "unclosed tagged fence, spaces": _fill(" ", "```prolog\n"),
    "fence openers, one line": _fill("``` "),
    "fence openers, many lines": _fill("```\n"),
    "code openers": _fill("<code>"),
    "nested tags": _fill("<reasoning><code><query>"),
    "closing tags": _fill("</reasoning> "),
    "reasoning then spaces": _fill(" ", "<reasoning>"),
    "reasoning then blank lines": _fill("\t \n", "<reasoning>\n", "</reasoning>\n<code>"),
    "unclosed code block": _fill("x is 1 + ", "<reasoning>\nr\n</reasoning>\n<code>\n"),
    "huge well-formed code": _fill("a(1). ", "<reasoning>\nr\n</reasoning>\n<code>\n", "\n</code>\n<query>\nq\n</query>\n"),
    "one huge line": _fill("a"),
    "newlines": _fill("\n"),
    "digits": _fill("9"),
    "digit groups": _fill("1 "),
    "underscore groups": _fill("1_ "),
    "exponents": _fill("1e9999 "),
    "quotes": _fill("'"),
    "char codes": _fill("0'"),
    "block comment openers": _fill("/*"),
    "lisp characters": _fill("#\\"),
    "hy bracket strings": _fill("]", "#[[", ""),
    "thousands separators": _fill(",111", "1"),
}


def steps() -> dict[str, Callable[[str], object]]:
    prolog = get_language("prolog")
    paper = lambda text: [f(SimpleNamespace(text=text)) for f in (paper_xmlcount, paper_strict_format, paper_soft_format)]
    return {
        "analyse": analyse, "parse": lambda t: extract_program(t, prolog), "is_strict": is_strict, "paper formats": paper,
        "literals prolog": lambda t: literals(t, "prolog"), "literals lisp": lambda t: literals(t, "lisp"),
        "literals hy": lambda t: literals(t, "hy"), "literals other": lambda t: literals(t, "scheme"),
        "question numbers": question_numbers,
    }


def measure() -> dict[str, dict[str, float]]:
    """Seconds per (shape, step)."""
    table: dict[str, dict[str, float]] = {}
    for shape, text in SHAPES.items():
        for step, run in steps().items():
            start = time.perf_counter()
            run(text)
            table.setdefault(shape, {})[step] = time.perf_counter() - start
    return table


def main() -> None:
    table = measure()
    names = list(steps())
    print(f"{'1 MB completion':32}" + "".join(f"{n[:12]:>13}" for n in names) + f"{'all':>9}")
    for shape, row in table.items():
        print(f"{shape:32}" + "".join(f"{row[n] * 1000:11.1f}ms" for n in names) + f"{sum(row.values()) * 1000:7.0f}ms")
    worst = max((sum(row.values()), shape) for shape, row in table.items())
    print(f"slowest shape: {worst[1]!r}, {worst[0] * 1000:.0f} ms for every step together")


if __name__ == "__main__":
    main()
