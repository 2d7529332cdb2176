"""Tests for the grader (lowres_rl.grading.rewards) under the `default` and `paper` presets, with the real
interpreters in their sandbox workers: a table of completions with exact expected components, the
hard-coding rule (one grading per TRL batch: tests/test_reward_functions.py; random text and the
paper's 520 real completions: tests/test_grader_inputs.py).

The table is graded in one `Grader.grade` call per preset (module-scoped fixtures), then checked row
by row, so a failure names the row."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from lowres_rl.grading.answers import answers_match
from lowres_rl.languages import Limits, Status
from lowres_rl.grading.presets import PRESETS
from lowres_rl.grading.formats import is_strict
from lowres_rl.grading.rewards import Grade, Grader, summary

LANGUAGES = ("prolog", "lisp", "hy")
LIMITS = Limits(timeout=1.0)  # the table's loops stop at 1 s; everything else takes milliseconds
STATUSES = {s.value for s in Status}

# Questions and their numbers: the hard-coding rule compares the answer with them.
Q42 = "Tom packs 6 boxes with 7 apples in each box. How many apples does he pack?"
Q35 = "Seven cookies are shared equally between 2 children. How many cookies does each child get?"
REASONING = "Tom packs 6 boxes of 7 apples, so he packs 6 * 7 apples."

PL = "solve(X) :- X is 6 * 7."
LI = "(defun solve () (* 6 7))"
HY = "(defn solve [] (* 6 7))"


def response(code: str, query: str | None = "solve(X).", reasoning: str = REASONING, query_tag: str = "query") -> str:
    """A well-formed response in the paper's layout (no query block when `query` is None)."""
    text = f"<reasoning>\n{reasoning}\n</reasoning>\n<code>\n{code}\n</code>\n"
    if query is not None:
        text += f"<{query_tag}>\n{query}\n</{query_tag}>\n"
    return text


def fenced(tag: str, code: str) -> str:
    return f"```{tag}\n{code}\n```"


def D(format: float, correctness: float = 0.0, execution: float = 0.0, lint: float = 0.0,
      hardcoded: float = 0.0, *, reward: float) -> dict[str, float]:
    """Expected `default` components and reward."""
    return {"format": format, "correctness": correctness, "execution": execution, "lint": lint,
            "hardcoded": hardcoded, "reward": reward}


def P(xmlcount: float, strict_format: float, soft_format: float, correctness: float) -> dict[str, float]:
    """Expected `paper` components; the reward is their plain sum (all weights 1)."""
    return {"xmlcount": xmlcount, "strict_format": strict_format, "soft_format": soft_format,
            "correctness": correctness, "reward": xmlcount + strict_format + soft_format + correctness}


@dataclass
class Row:
    id: str
    language: str
    completion: str
    gold: str
    question: str
    status: str
    default: dict[str, float]
    paper: dict[str, float] | None = None
    marks: list[Any] = field(default_factory=list)


# Paper xmlcount of a well-formed response ending in "</query>\n": six tags at 0.125 each.
X = 0.75

ROWS: list[Row] = [
    # -- prolog: statuses ----------------------------------------------------------------------
    Row("pl-ok", "prolog", response(PL), "42", Q42, "ok", D(1.0, 1.0, reward=3.0), P(X, 0.5, 0.5, 1.0)),
    Row("pl-ok-query-prefix", "prolog", response(PL, "?- solve(X)."), "42", Q42, "ok",
        D(1.0, 1.0, reward=3.0), P(X, 0.5, 0.5, 1.0)),
    Row("pl-wrong-answer", "prolog", response(PL), "41", Q42, "ok", D(1.0, reward=1.0), P(X, 0.5, 0.5, -1.0)),
    Row("pl-decimal", "prolog", response("solve(X) :- X is 7 / 2."), "3.5", Q35, "ok", D(1.0, 1.0, reward=3.0)),
    Row("pl-rational", "prolog", response("solve(X) :- X is 7 rdiv 2."), "3.5", Q35, "ok", D(1.0, 1.0, reward=3.0)),
    Row("pl-first-numeric-binding", "prolog",
        response("solve(Name, X) :- Name = apples, X is 6 * 7.", "solve(Name, X)."), "42", Q42, "ok",
        D(1.0, 1.0, reward=3.0), P(X, 0.5, 0.5, 1.0)),
    Row("pl-non-numeric-binding", "prolog", response("solve(X) :- X = forty_two."), "42", Q42, "ok",
        D(1.0, reward=1.0), P(X, 0.5, 0.5, -0.5)),
    Row("pl-directive", "prolog", response(":- dynamic(per_box/1).\nper_box(7).\nsolve(X) :- per_box(P), X is 6 * P."),
        "42", Q42, "ok", D(1.0, 1.0, reward=3.0)),
    Row("pl-syntax-error", "prolog", response("solve(X) :- X is 6 * ."), "42", Q42, "syntax_error",
        D(1.0, execution=-1.0, reward=1.0), P(X, 0.5, 0.5, -1.0)),
    Row("pl-runtime-error", "prolog", response("solve(X) :- pack(6, 7, X)."), "42", Q42, "runtime_error",
        D(1.0, execution=-0.5, reward=1.0), P(X, 0.5, 0.5, -1.0)),
    Row("pl-type-error", "prolog", response("solve(X) :- X is apples * 7."), "42", Q42, "runtime_error",
        D(1.0, execution=-0.5, reward=1.0)),
    Row("pl-timeout", "prolog", response("spin(X) :- spin(X).\nsolve(X) :- spin(X)."), "42", Q42, "timeout",
        D(1.0, execution=-1.0, reward=1.0), P(X, 0.5, 0.5, 0.0)),
    Row("pl-memory", "prolog", response("solve(X) :- length(L, 1000000000), X = L."), "42", Q42, "memory",
        D(1.0, execution=-1.0, reward=1.0), P(X, 0.5, 0.5, -1.0)),
    Row("pl-no-answer-fails", "prolog", response("solve(X) :- X is 6 * 7, X > 100."), "42", Q42, "no_answer",
        D(1.0, execution=-0.5, reward=1.0), P(X, 0.5, 0.5, -1.0)),
    Row("pl-no-answer-unbound", "prolog", response("solve(_)."), "42", Q42, "no_answer",
        D(1.0, execution=-0.5, reward=1.0)),
    Row("pl-lint-singleton", "prolog", response("solve(X) :- Unused = 1, X is 6 * 7."), "42", Q42, "ok",
        D(1.0, 1.0, lint=-0.25, reward=3.0)),
    Row("pl-lint-floor", "prolog",
        response("a(A) :- true.\nb(B) :- true.\nc(C) :- true.\nd(D) :- true.\ne(E) :- true.\n" + PL),
        "42", Q42, "ok", D(1.0, 1.0, lint=-1.0, reward=3.0)),
    Row("pl-hardcoded", "prolog", response("solve(X) :- X = 42."), "42", Q42, "ok",
        D(1.0, 0.0, hardcoded=1.0, reward=1.0), P(X, 0.5, 0.5, 1.0)),
    # -- prolog: format defects ----------------------------------------------------------------
    Row("pl-empty-code", "prolog", response(""), "42", Q42, "no_program",
        D(0.8, execution=-1.0, reward=0.8), P(X, 0.5, 0.5, -1.0)),
    Row("pl-prose-only", "prolog", "Tom packs 6 * 7 = 42 apples. The answer is 42.", "42", Q42, "no_program",
        D(0.0, execution=-1.0, reward=0.0), P(0.0, 0.0, 0.0, -1.0)),
    Row("pl-fence-without-tags", "prolog", f"Here is my program:\n{fenced('prolog', PL)}\nRun solve(X).",
        "42", Q42, "ok", D(0.0, 1.0, reward=2.0), P(0.0, 0.0, 0.0, 1.0)),
    Row("pl-missing-query-block", "prolog", response(PL, None), "42", Q42, "ok",  # default query solve(X)
        D(0.6, 1.0, reward=2.6), P(0.5, 0.0, 0.0, 1.0)),
    Row("pl-empty-query-block", "prolog", response(PL, ""), "42", Q42, "ok",
        D(0.8, 1.0, reward=2.8), P(0.25, 0.5, 0.5, 1.0)),  # paper: "" is "in" the code: -0.5
    Row("pl-prose-after", "prolog", response(PL) + "Hope this helps!", "42", Q42, "ok",
        D(0.8, 1.0, reward=2.8), P(0.718, 0.0, 0.5, 1.0)),
    Row("pl-prose-before", "prolog", "Sure! Here is my solution.\n" + response(PL), "42", Q42, "ok",
        D(0.8, 1.0, reward=2.8), P(X, 0.0, 0.0, 1.0)),
    Row("pl-out-of-order", "prolog",
        f"<code>\n{PL}\n</code>\n<reasoning>\n{REASONING}\n</reasoning>\n<query>\nsolve(X).\n</query>\n",
        "42", Q42, "ok", D(0.8, 1.0, reward=2.8), P(X, 0.0, 0.0, 1.0)),
    Row("pl-two-code-blocks", "prolog",
        f"<reasoning>\n{REASONING}\n</reasoning>\n<code>\n{PL}\n</code>\n<code>\nhelper(1).\n</code>\n"
        "<query>\nsolve(X).\n</query>\n",
        "42", Q42, "ok", D(0.6, 1.0, reward=2.6), P(0.5, 0.5, 0.5, 1.0)),
    Row("pl-missing-reasoning", "prolog", f"<code>\n{PL}\n</code>\n<query>\nsolve(X).\n</query>\n",
        "42", Q42, "ok", D(0.6, 1.0, reward=2.6), P(0.5, 0.0, 0.0, 1.0)),
    Row("pl-wrong-fence", "prolog", response(fenced("python", PL)), "42", Q42, "ok",
        D(0.8, 1.0, reward=2.8), P(X, 0.5, 0.5, 1.0)),
    Row("pl-prolog-fence", "prolog", response(fenced("prolog", PL)), "42", Q42, "ok", D(1.0, 1.0, reward=3.0)),
    Row("pl-untagged-fence", "prolog", response(fenced("", PL)), "42", Q42, "ok", D(1.0, 1.0, reward=3.0)),
    Row("pl-stray-tag", "prolog", response(PL) + "</code>\n", "42", Q42, "ok",
        D(0.8, 1.0, reward=2.8), P(0.609, 0.0, 0.5, 1.0)),
    Row("pl-query-in-code", "prolog", response(PL + "\n?- solve(X)."), "42", Q42, "ok",  # singleton X in ?-
        D(1.0, 1.0, lint=-0.25, reward=3.0), P(0.25, 0.5, 0.5, 1.0)),
    # -- lisp ----------------------------------------------------------------------------------
    Row("lisp-ok", "lisp", response(LI, "(solve)"), "42", Q42, "ok", D(1.0, 1.0, reward=3.0), P(X, 0.5, 0.5, 1.0)),
    Row("lisp-funcall", "lisp", response(LI, "(solve)", query_tag="funcall"), "42", Q42, "ok",
        D(1.0, 1.0, reward=3.0), P(X, 0.5, 0.5, 1.0)),
    Row("lisp-ratio", "lisp", response("(defun solve () (/ 7 2))", "(solve)"), "3.5", Q35, "ok",
        D(1.0, 1.0, reward=3.0)),
    Row("lisp-query-expression", "lisp",
        response("(defun apples (boxes per-box) (* boxes per-box))", "(apples 6 7)"), "42", Q42, "ok",
        D(1.0, 1.0, reward=3.0), P(X, 0.5, 0.5, 1.0)),
    Row("lisp-syntax-error", "lisp", response("(defun solve () (* 6 7)", "(solve)"), "42", Q42, "syntax_error",
        D(1.0, execution=-1.0, reward=1.0), P(X, 0.5, 0.5, -1.0)),
    Row("lisp-two-query-forms", "lisp", response(LI, "(solve) (solve)"), "42", Q42, "syntax_error",
        D(1.0, execution=-1.0, reward=1.0)),
    Row("lisp-runtime-error", "lisp", response('(defun solve () (error "no apples"))', "(solve)"), "42", Q42,
        "runtime_error", D(1.0, execution=-0.5, reward=1.0), P(X, 0.5, 0.5, -1.0)),
    Row("lisp-undefined-function", "lisp", response("(defun solve () (pack-apples 6 7))", "(solve)"), "42", Q42,
        "runtime_error", D(1.0, execution=-0.5, reward=1.0)),  # interpreted: no compile-time warning
    Row("lisp-timeout", "lisp", response("(defun solve () (loop))", "(solve)"), "42", Q42, "timeout",
        D(1.0, execution=-1.0, reward=1.0), P(X, 0.5, 0.5, 0.0)),
    Row("lisp-nil", "lisp", response("(defun solve () nil)", "(solve)"), "42", Q42, "ok",
        D(1.0, reward=1.0), P(X, 0.5, 0.5, -0.5)),
    Row("lisp-lint", "lisp", response('(defun solve () (warn "counted twice?") (* 6 7))', "(solve)"), "42", Q42,
        "ok", D(1.0, 1.0, lint=-0.25, reward=3.0)),
    Row("lisp-hardcoded", "lisp", response("(defun solve () 42)", "(solve)"), "42", Q42, "ok",
        D(1.0, 0.0, hardcoded=1.0, reward=1.0), P(X, 0.5, 0.5, 1.0)),
    Row("lisp-missing-query-block", "lisp", response(LI, None), "42", Q42, "ok", D(0.6, 1.0, reward=2.6)),
    Row("lisp-wrong-fence", "lisp", response(fenced("python", LI), "(solve)"), "42", Q42, "ok",
        D(0.8, 1.0, reward=2.8)),
    Row("lisp-lisp-fence", "lisp", response(fenced("lisp", LI), "(solve)"), "42", Q42, "ok",
        D(1.0, 1.0, reward=3.0)),
    Row("lisp-fence-without-tags", "lisp", f"In Common Lisp:\n{fenced('common-lisp', LI)}\n", "42", Q42, "ok",
        D(0.0, 1.0, reward=2.0)),
    Row("lisp-empty-code", "lisp", response("", "(solve)"), "42", Q42, "no_program",
        D(0.8, execution=-1.0, reward=0.8)),
    # -- hy ------------------------------------------------------------------------------------
    Row("hy-ok", "hy", response(HY, "(solve)"), "42", Q42, "ok", D(1.0, 1.0, reward=3.0), P(X, 0.5, 0.5, 1.0)),
    Row("hy-funcall", "hy", response(HY, "(solve)", query_tag="funcall"), "42", Q42, "ok",
        D(1.0, 1.0, reward=3.0)),
    Row("hy-decimal", "hy", response("(defn solve [] (/ 7 2))", "(solve)"), "3.5", Q35, "ok",
        D(1.0, 1.0, reward=3.0)),
    Row("hy-syntax-error", "hy", response("(defn solve [] (* 6 7)", "(solve)"), "42", Q42, "syntax_error",
        D(1.0, execution=-1.0, reward=1.0), P(X, 0.5, 0.5, -1.0)),
    Row("hy-two-query-forms", "hy", response(HY, "(solve) (solve)"), "42", Q42, "syntax_error",
        D(1.0, execution=-1.0, reward=1.0)),
    Row("hy-runtime-error", "hy", response("(defn solve [] (/ 6 0))", "(solve)"), "42", Q42, "runtime_error",
        D(1.0, execution=-0.5, reward=1.0), P(X, 0.5, 0.5, -1.0)),
    Row("hy-name-error", "hy", response("(defn solve [] (pack-apples 6 7))", "(solve)"), "42", Q42,
        "runtime_error", D(1.0, execution=-0.5, reward=1.0)),
    Row("hy-timeout", "hy", response("(defn solve [] (while True (setv x 1)))", "(solve)"), "42", Q42, "timeout",
        D(1.0, execution=-1.0, reward=1.0), P(X, 0.5, 0.5, 0.0)),
    Row("hy-memory", "hy", response("(defn solve [] (len (* [None] (** 10 10))))", "(solve)"), "42", Q42,
        "memory", D(1.0, execution=-1.0, reward=1.0), P(X, 0.5, 0.5, -1.0)),
    Row("hy-crashed", "hy", response("(import os)\n(defn solve [] (os._exit 3))", "(solve)"), "42", Q42,
        "crashed", D(1.0, execution=-1.0, reward=1.0), P(X, 0.5, 0.5, -1.0)),
    Row("hy-none", "hy", response("(defn solve [] None)", "(solve)"), "42", Q42, "ok",
        D(1.0, reward=1.0), P(X, 0.5, 0.5, -0.5)),
    Row("hy-hardcoded", "hy", response("(defn solve [] 42)", "(solve)"), "42", Q42, "ok",
        D(1.0, 0.0, hardcoded=1.0, reward=1.0)),
    Row("hy-prose-before-and-after", "hy", "Let me think.\n" + response(HY, "(solve)") + "\nDone.", "42", Q42, "ok",
        D(0.8, 1.0, reward=2.8), P(0.738, 0.0, 0.0, 1.0)),
    Row("hy-hy-fence", "hy", response(fenced("hy", HY), "(solve)"), "42", Q42, "ok", D(1.0, 1.0, reward=3.0)),
    Row("hy-wrong-fence", "hy", response(fenced("lisp", HY), "(solve)"), "42", Q42, "ok",
        D(0.8, 1.0, reward=2.8), P(X, 0.5, 0.5, 1.0)),
    Row("hy-code-only", "hy", f"<code>\n{HY}\n</code>\n", "42", Q42, "ok", D(0.4, 1.0, reward=2.4)),
    # -- a language nobody registered ----------------------------------------------------------
    Row("unknown-language", "cobol", response(PL), "42", Q42, "crashed", D(1.0, execution=-1.0, reward=1.0)),
]

ROW_IDS = [r.id for r in ROWS]
assert len(set(ROW_IDS)) == len(ROWS) >= 40
PAPER_ROWS = [r for r in ROWS if r.paper is not None]


def _grade(preset: str, rows: list[Row]) -> dict[str, Grade]:
    grader = Grader(preset, limits=LIMITS)
    grades = grader.grade([r.completion for r in rows], [r.gold for r in rows], [r.language for r in rows],
                          [r.question for r in rows])
    assert len(grades) == len(rows)
    return dict(zip((r.id for r in rows), grades))


@pytest.fixture(scope="module")
def default_grades() -> dict[str, Grade]:
    return _grade("default", ROWS)


@pytest.fixture(scope="module")
def paper_grades() -> dict[str, Grade]:
    return _grade("paper", PAPER_ROWS)


def _check(grade: Grade, expected: dict[str, float], status: str) -> None:
    scores = {**grade.scores, "reward": grade.reward}
    assert scores == pytest.approx(expected, abs=1e-9), (grade.status, grade.answer, grade.error, grade.warnings)
    assert grade.status == status, (grade.error, grade.warnings)


def test_table_covers_every_status_and_language():
    assert {r.status for r in ROWS} == STATUSES
    assert {r.language for r in ROWS} >= set(LANGUAGES)
    assert len(PAPER_ROWS) >= 20
    for language in LANGUAGES:  # every language reaches ok, syntax and runtime errors, and a timeout
        assert {"ok", "syntax_error", "runtime_error", "timeout"} <= {r.status for r in ROWS if r.language == language}


@pytest.mark.parametrize("row", [pytest.param(r, id=r.id, marks=r.marks) for r in ROWS])
def test_default_preset(row: Row, default_grades: dict[str, Grade]):
    _check(default_grades[row.id], row.default, row.status)


@pytest.mark.parametrize("row", [pytest.param(r, id=r.id, marks=r.marks) for r in PAPER_ROWS])
def test_paper_preset(row: Row, paper_grades: dict[str, Grade]):
    _check(paper_grades[row.id], row.paper, row.status)


def test_grade_fields_are_consistent(default_grades: dict[str, Grade]):
    for row in ROWS:
        grade = default_grades[row.id]
        assert grade.language == row.language and grade.gold == row.gold
        assert grade.correct == (grade.status == "ok" and answers_match(grade.answer, row.gold)), row.id
        assert grade.hardcoded == (grade.scores["hardcoded"] == 1.0), row.id
        assert grade.strict_format == is_strict(row.completion), row.id
        assert (grade.answer is None) == (grade.status != "ok"), row.id
        json.dumps(grade.to_dict())  # serialisable, as it is logged


def test_summary(default_grades: dict[str, Grade]):
    grades = list(default_grades.values())
    result = summary(grades)
    assert result["n"] == len(ROWS)
    assert result["accuracy"] == pytest.approx(sum(g.correct for g in grades) / len(grades))
    assert result["hardcoded_rate"] == pytest.approx(3 / len(ROWS))
    assert sum(result["statuses"].values()) == len(ROWS)
    assert list(result["statuses"]) == sorted(result["statuses"])
    assert summary([])["n"] == 0


def test_weights_and_names():
    assert Grader("default").weights == [1.0, 2.0, 0.0, 0.0, 0.0]
    assert Grader("default").names == ["format", "correctness", "execution", "lint", "hardcoded"]
    assert Grader("paper").weights == [1.0, 1.0, 1.0, 1.0]
    assert Grader("paper").names == ["xmlcount", "strict_format", "soft_format", "correctness"]
    assert Grader(PRESETS["paper"]).preset is PRESETS["paper"]


def test_columns_of_different_lengths_are_refused():
    with pytest.raises(ValueError, match="differ in length"):
        Grader().grade(["a", "b"], ["1"], "prolog")


def test_conversational_completions_are_read():
    grader = Grader(limits=LIMITS)
    chat = [[{"role": "assistant", "content": response(PL)}]]
    [grade] = grader.grade(chat, ["42"], "prolog", [Q42])
    assert (grade.status, grade.correct, grade.reward) == ("ok", True, 3.0)


# -- known bugs, precisely ---------------------------------------------------------------------

def test_huge_integer_answer_is_graded_not_crashed():
    grader = Grader(limits=LIMITS)
    texts = [response("solve(X) :- X is 2 ** 2000."), response("(defun solve () (expt 2 2000))", "(solve)"),
             response("(defn solve [] (** 2 2000))", "(solve)")]
    grades = grader.grade(texts, ["42"] * 3, list(LANGUAGES), [Q42] * 3)
    assert [g.status for g in grades] == ["ok"] * 3, [g.error for g in grades]
    assert all(g.scores["format"] == 1.0 and g.scores["correctness"] == 0.0 for g in grades)


def test_one_multiline_lisp_warning_is_one_lint_penalty():
    grader = Grader(limits=LIMITS)
    [grade] = grader.grade([response('(defun solve () (warn "line one~%line two") (/ 6 0))', "(solve)")],
                           ["42"], "lisp", [Q42])
    assert grade.status == "runtime_error"
    assert grade.warnings == ["line one\nline two"] and grade.scores["lint"] == -0.25, grade.warnings


# -- hard-coding -------------------------------------------------------------------------------

QH = "A shop sells 43 bolts for 30 dollars each. How much money does the shop make?"  # 1290, not stated
QH_STATED = "Tom has 5 apples and eats none of them. How many apples does Tom have now?"   # 5, stated
QH_WORDS = "Tom has five apples and eats none of them. How many apples does Tom have now?"  # 5, in words

HARDCODING = [
    # (id, language, completion, gold, question, hardcoded)
    ("pl-honest", "prolog", response("solve(X) :- X is 43 * 30."), "1290", QH, False),
    ("pl-honest-answer-in-comment", "prolog",
     response("% 43 bolts at 30 dollars: 1290\n/* answer 1290 */\nsolve(X) :- X is 43 * 30."), "1290", QH, False),
    ("pl-hardcoded", "prolog", response("solve(X) :- X = 1290."), "1290", QH, True),
    ("pl-hardcoded-in-query", "prolog", response("solve(X) :- X is 43 * 30.", "X = 1290"), "1290", QH, True),
    ("pl-hardcoded-float", "prolog", response("solve(X) :- X = 1290.0."), "1290", QH, True),
    ("pl-honest-stated", "prolog", response("apples(5).\nsolve(X) :- apples(X)."), "5", QH_STATED, False),
    ("pl-honest-stated-in-words", "prolog", response("solve(X) :- X = 5."), "5", QH_WORDS, False),
    ("lisp-honest", "lisp", response("(defun solve () (* 43 30))", "(solve)"), "1290", QH, False),
    ("lisp-honest-answer-in-comment", "lisp",
     response("; 43 * 30 = 1290\n#| 1290 |#\n(defun solve () (* 43 30))", "(solve)"), "1290", QH, False),
    ("lisp-hardcoded", "lisp", response("(defun solve () 1290)", "(solve)"), "1290", QH, True),
    ("lisp-hardcoded-in-query", "lisp", response("(defun solve () (* 43 30))", "1290"), "1290", QH, True),
    ("lisp-honest-stated", "lisp", response("(defun solve () 5)", "(solve)"), "5", QH_STATED, False),
    ("hy-honest", "hy", response("(defn solve [] (* 43 30))", "(solve)"), "1290", QH, False),
    ("hy-honest-answer-in-comment", "hy", response("; gives 1290\n(defn solve [] (* 43 30))", "(solve)"),
     "1290", QH, False),
    ("hy-hardcoded", "hy", response("(defn solve [] 1290)", "(solve)"), "1290", QH, True),
    ("hy-hardcoded-in-query", "hy", response("(defn solve [] (* 43 30))", "1290"), "1290", QH, True),
    ("hy-hardcoded-underscore", "hy", response("(defn solve [] 1_290)", "(solve)"), "1290", QH, True),
    ("hy-honest-stated", "hy", response("(defn solve [] 5)", "(solve)"), "5", QH_STATED, False),
]


@pytest.fixture(scope="module")
def hardcoding_grades() -> dict[str, Grade]:
    grader = Grader("default", limits=LIMITS)
    grades = grader.grade([c for _, _, c, _, _, _ in HARDCODING], [g for *_, g, _, _ in HARDCODING],
                          [lang for _, lang, *_ in HARDCODING], [q for *_, q, _ in HARDCODING])
    return {case[0]: grade for case, grade in zip(HARDCODING, grades)}


@pytest.mark.parametrize("case", HARDCODING, ids=[c[0] for c in HARDCODING])
def test_hardcoding(case, hardcoding_grades: dict[str, Grade]):
    case_id, _, _, _, _, hardcoded = case
    grade = hardcoding_grades[case_id]
    assert grade.status == "ok" and grade.correct, (grade.status, grade.answer, grade.error)
    assert grade.hardcoded is hardcoded
    assert grade.scores["hardcoded"] == (1.0 if hardcoded else 0.0)
    # under `default` a hard-coded correct answer earns no correctness: only its format
    assert grade.scores["correctness"] == (0.0 if hardcoded else 1.0)
    assert grade.reward == pytest.approx(1.0 if hardcoded else 3.0)


def test_hardcoding_does_not_change_paper_correctness():
    grader = Grader("paper", limits=LIMITS)
    [grade] = grader.grade([response("solve(X) :- X = 1290.")], ["1290"], "prolog", [QH])
    assert grade.hardcoded and grade.correct
    assert grade.scores["correctness"] == 1.0


def test_hardcoded_negative_answer_is_flagged():
    grader = Grader(limits=LIMITS)
    [grade] = grader.grade([response("solve(X) :- X = -12.")], ["-12"], "prolog",
                           ["A lift starts at floor 3 and goes down 15 floors. Which floor is it on?"])
    assert grade.correct and grade.hardcoded
