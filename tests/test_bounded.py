"""Bounded work on any input: numbers too large to read cheaply are "not a number" wherever they
appear (program literal, executed answer, gold answer, question), and a 1 MB completion of any
shape parses in well under a second (benchmarks/parse_time.py prints the times; the bounds here
are generous, in CPU seconds, because the test machines are shared).

    python -m pytest -q tests/test_bounded.py
"""
from __future__ import annotations

import importlib.util
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from lowres_rl.grading.answers import answers_match, gold_answer, parse_number
from lowres_rl.grading.hardcoding import question_numbers
from lowres_rl.languages import Limits, get_language
from lowres_rl.grading.literals import literals
from lowres_rl.grading.presets import paper_soft_format, paper_strict_format, paper_xmlcount
from lowres_rl.grading.response import analyse
from lowres_rl.grading.rewards import Grader
from lowres_rl.grading.formats import extract_program

_SPEC = importlib.util.spec_from_file_location(
    "benchmarks_parse_time", Path(__file__).resolve().parents[1] / "benchmarks" / "parse_time.py")
_PARSE_TIME = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(_PARSE_TIME)  # type: ignore[union-attr]
SHAPES: dict[str, str] = _PARSE_TIME.SHAPES  # the benchmark's 1 MB adversarial completions

HUGE = ["1e99999999", "-1e99999999", "1.5e-99999999", "9" * 100_000, "1/" + "3" * 100_000, "1" * 5000 + ".5"]
Q72 = "A farmer plants 8 rows of 9 cabbages. How many cabbages does he plant?"
LIMITS = Limits(timeout=10.0)


def cpu_seconds(run) -> float:
    start = time.process_time()
    run()
    return time.process_time() - start


@pytest.mark.parametrize("text", HUGE, ids=lambda t: t[:14])
def test_huge_numbers_are_not_numbers(text: str) -> None:
    assert cpu_seconds(lambda: parse_number(text)) < 0.5
    assert parse_number(text) is None and not answers_match(text, text) and not answers_match("72", text)
    with pytest.raises(ValueError):
        gold_answer(f"#### {text}")


def test_the_largest_readable_numbers_are_read() -> None:
    assert parse_number("1e400") == 10 ** 400 and parse_number("9" * 400) == int("9" * 400)
    assert gold_answer("#### " + "7" * 400) == "7" * 400


@pytest.mark.parametrize("text", HUGE, ids=lambda t: t[:14])
def test_huge_numbers_in_questions_and_programs_are_skipped(text: str) -> None:
    assert cpu_seconds(lambda: question_numbers(f"{Q72} He also has {text} seeds.")) < 0.5
    assert question_numbers(f"{Q72} He also has {text} seeds.") >= {8, 9}
    for lang in ("prolog", "lisp", "hy", "scheme"):
        assert cpu_seconds(lambda: literals(f"(x {text} 8)", lang)) < 0.5
        assert all(abs(lit.value) < 10 ** 801 for lit in literals(f"(x {text} 8)", lang))


@pytest.fixture(scope="module")
def grader() -> Grader:
    grader = Grader("default", limits=LIMITS)
    grader.grade(["<code>\nsolve(X) :- X is 8 * 9.\n</code>"], ["72"], "prolog", [Q72])  # start the workers
    return grader


PROGRAMS = [
    ("prolog", "solve(X) :- X = 1e99999999.", None),
    ("prolog", "solve(X) :- X = '1e99999999'.", None),      # the executed answer is the text
    ("prolog", f"solve(X) :- X is 8 * 9 + 0 * {'9' * 5000}.", None),
    ("lisp", "(defun solve () 1e99999999)", "(solve)"),
    ("lisp", '(defun solve () "1e99999999")', "(solve)"),
    ("hy", "(defn solve [] 1e99999999)", "(solve)"),
    ("hy", '(defn solve [] "1e99999999")', "(solve)"),
]


@pytest.mark.parametrize("lang, code, query", PROGRAMS, ids=[f"{p[0]}-{i}" for i, p in enumerate(PROGRAMS)])
def test_a_huge_literal_in_a_completion_is_graded_in_a_second(grader: Grader, lang: str, code: str, query) -> None:
    text = f"<code>\n{code}\n</code>\n" + (f"<query>\n{query}\n</query>\n" if query else "")
    for gold in ("72", "1e99999999"):
        start = time.perf_counter()
        [grade] = grader.grade([text], [gold], lang, [f"{Q72} Or 1e99999999."])
        assert time.perf_counter() - start < 5.0  # wall time; the interpreters run here too
        assert not (grade.correct and gold != "72"), grade


def test_a_correct_program_with_a_huge_question_number_is_checked(grader: Grader) -> None:
    [grade] = grader.grade(["<code>\nsolve(X) :- X is 8 * 9.\n</code>"], ["72"], "prolog",
                           [f"{Q72} He owns 1e99999999 seeds and {'9' * 100_000} stones."])
    assert grade.correct and not grade.hardcoded


def _parse_everything(text: str) -> None:
    """What the grader does with a completion's text before running it."""
    analyse(text)
    extract_program(text, get_language("prolog"))
    for score in (paper_xmlcount, paper_strict_format, paper_soft_format):
        score(SimpleNamespace(text=text))


@pytest.mark.parametrize("shape", list(SHAPES))
def test_a_1mb_completion_of_any_shape_parses_in_under_a_second(shape: str) -> None:
    text = SHAPES[shape]
    assert len(text) > 1_000_000
    assert cpu_seconds(lambda: _parse_everything(text)) < 1.0


@pytest.mark.parametrize("shape", list(SHAPES))
def test_reading_numbers_in_a_1mb_text_is_bounded(shape: str) -> None:
    text = SHAPES[shape]

    def read() -> None:
        question_numbers(text)
        for lang in ("prolog", "lisp", "hy", "scheme"):
            literals(text, lang)

    assert cpu_seconds(read) < 2.0
