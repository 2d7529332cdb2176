"""The grader never breaks, whatever it reads: random text, random tags and code reaching the real
interpreters, and the paper's 520 real completions (graded under both presets, in agreement with
the paper's own grader). The grading table itself is tests/test_rewards.py."""
from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shared_paths import SHARED
from test_rewards import HY, LANGUAGES, LI, LIMITS, PL, Q42, STATUSES, response

from lowres_rl.grading.rewards import Grade, Grader

PAPER_COMPLETIONS = SHARED / "data" / "paper-completions" / "completions.jsonl"


# -- random text never breaks the grader --------------------------------------------------------

FRAGMENTS = [
    "<reasoning>", "</reasoning>", "<code>", "</code>", "<query>", "</query>", "<funcall>", "</funcall>",
    "<answer>", "</answer>", "```", "```prolog\n", "```lisp\n", "```hy\n", "```python\n", "\n```", "\n", " ", "\t",
    PL, LI, HY, "solve(X).", "?- solve(X).", "(solve)", "X = 1290", "solve(X) :- X = forty_two.",
    "(defun solve () nil)", "(defn solve [] None)", "(defn solve [] 7/2)", "solve(X) :- X is 7 rdiv 2.",
    ":- dynamic(a/1).", "%", ";", "/*", "*/", "#|", "|#", '"', "'", "(", ")", "[", "]", ".", "1,234", "$",
    "é", "日本", "\x00", "<", ">", "</", "####", "<|endoftext|>Human:",
]
GRADER_FOR_RANDOM_TEXT = Grader("default", limits=LIMITS)
PAPER_GRADER_FOR_RANDOM_TEXT = Grader("paper", limits=LIMITS)


def _assert_sane(grades: list[Grade], n: int) -> None:
    assert len(grades) == n
    for grade in grades:
        assert grade.status in STATUSES
        assert isinstance(grade.reward, float) and math.isfinite(grade.reward)
        for score in grade.scores.values():
            assert isinstance(score, float) and math.isfinite(score)
        assert not grade.error.startswith("grader failure"), grade.error


def _grade_everywhere(texts: list[str]) -> None:
    languages = [lang for lang in LANGUAGES for _ in texts]
    for grader in (GRADER_FOR_RANDOM_TEXT, PAPER_GRADER_FOR_RANDOM_TEXT):
        grades = grader.grade(texts * len(LANGUAGES), ["42"] * len(languages), languages, [Q42] * len(languages))
        _assert_sane(grades, len(languages))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(), min_size=1, max_size=4))
def test_random_text_is_graded(texts: list[str]):
    _grade_everywhere(texts)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=8), max_size=14).map("".join),
                min_size=1, max_size=4))
def test_random_mixtures_of_tags_and_fragments_are_graded(texts: list[str]):
    _grade_everywhere(texts)


CODE_LIKE = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=8), max_size=10).map("".join)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(CODE_LIKE, CODE_LIKE), min_size=1, max_size=4))
def test_random_code_in_well_formed_responses_is_graded(pairs: list[tuple[str, str]]):
    """Random code and queries inside the tags: these reach the interpreters."""
    _grade_everywhere([response(code, query) for code, query in pairs])


# -- the paper's 520 real completions ----------------------------------------------------------

@pytest.fixture(scope="module")
def paper_completions() -> list[dict[str, Any]]:
    if not PAPER_COMPLETIONS.is_file():
        pytest.skip(f"paper completions not found at {PAPER_COMPLETIONS} (shared/ checked out beside the repo?)")
    with PAPER_COMPLETIONS.open(encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    assert len(rows) == 520
    return rows


@pytest.fixture(scope="module")
def paper_completion_grades(paper_completions) -> dict[str, list[Grade]]:
    rows = paper_completions
    graded = {}
    for preset in ("paper", "default"):
        grades = Grader(preset).grade([r["completion"] for r in rows], [r["answer"] for r in rows], "prolog",
                                      [r["question"] for r in rows])
        _assert_sane(grades, len(rows))
        graded[preset] = grades
    return graded


def test_paper_completions_grade_under_both_presets(paper_completion_grades):
    assert set(paper_completion_grades) == {"paper", "default"}
    paper, default = paper_completion_grades["paper"], paper_completion_grades["default"]
    # the presets differ in scores, never in what ran
    assert [(g.status, g.answer, g.correct) for g in paper] == [(g.status, g.answer, g.correct) for g in default]
    assert {g.status for g in paper} <= STATUSES


def test_paper_completions_agree_with_the_papers_grader(paper_completions, paper_completion_grades):
    grades = paper_completion_grades["paper"]
    agree = sum(int(g.correct) == row["paper_match"] for g, row in zip(grades, paper_completions))
    assert agree / len(grades) >= 0.95, f"agreement {agree}/{len(grades)}; see benchmarks/paper_agreement.py"


def test_strict_format_flag_is_the_grammars_on_real_completions(paper_completions, paper_completion_grades) -> None:
    from lowres_rl.grading.formats import is_strict

    expected = [is_strict(r["completion"]) for r in paper_completions]
    assert [g.strict_format for g in paper_completion_grades["default"]] == expected
    assert 0 < sum(expected) < len(expected)  # both verdicts occur
