"""Tests for the hard-coding rule (lowres_rl.grading.hardcoding) and the literal reader under it
(lowres_rl.grading.literals), with the real interpreters: every notation and trick that hides a hard-coded
answer is caught in each language it applies to; honest programs with constants the question
implies (7 days, 12 inches, 60 minutes, a pair, "half", "fourth") keep their reward; the project's
reference programs and a generated honest set on their own questions are never flagged.

    python -m pytest -q tests/test_hardcoding.py
"""
from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest

from lowres_rl.grading.hardcoding import probe, question_numbers
from lowres_rl.languages import Limits, Program
from lowres_rl.grading.literals import literals, rewrite
from lowres_rl.grading.rewards import Grader
from lowres_rl.offline.synthetic import generate

from conftest import GSM8K_TEST

LIMITS = Limits(timeout=10.0)  # generous: the machine is shared; nothing here loops
REFERENCE = Path(__file__).resolve().parent / "reference"
EXTENSIONS = {"prolog": ".pl", "lisp": ".lisp", "hy": ".hy"}
# shared/ beside the checkout (conftest's layout), or beside a worktree folder holding checkouts
GSM8K_TESTS = [GSM8K_TEST, Path(__file__).resolve().parents[3] / "shared" / "data" / "gsm8k" / "test.jsonl"]
Q72 = "A farmer plants 8 rows of 9 cabbages. How many cabbages does he plant?"  # 72, not stated


def response(code: str, query: str | None) -> str:
    text = f"<reasoning>\nRows times cabbages.\n</reasoning>\n<code>\n{code}\n</code>\n"
    return text + (f"<query>\n{query}\n</query>\n" if query else "")


# -- the literal reader ------------------------------------------------------------------------

NOTATIONS = [
    # (language, code, the text of each literal read, in order, all worth 72 unless noted)
    ("prolog", "X = 0x48, Y = 0o110, Z = 0b1001000, W = 36'20, V = 0'H, U = 144r2, T = 72",
     ["0x48", "0o110", "0b1001000", "36'20", "0'H", "144r2", "72"]),
    ("prolog", "atom_length('%', _), X = 72", ["72"]),
    ("prolog", "X = \"/* 5 */\", Y = '*/', Z = 72 % 6", ["72"]),
    ("prolog", "x43(A1), _9 = B, X = 7_2", ["7_2"]),
    ("lisp", '(progn ";" 72 #\\; 72 |a;b| 72)', ["72", "72", "72"]),
    ("lisp", "(list #x48 #b1001000 #o110 #36r20 144/2 (char-code #\\H) 72. +72 -72 1+)",
     ["#x48", "#b1001000", "#o110", "#36r20", "144/2", "72.", "72", "72"]),
    ("lisp", "#| 5 |# (* 72 1) ; 6", ["72", "1"]),
    ("hy", '(do ";" 72 0x48 0o110 0b1001000 7_2 72.0 (ord "H") x72) ; 5', ["72", "0x48", "0o110", "0b1001000",
                                                                         "7_2", "72.0"]),
    ("scheme", "(define x 72) ; 72", ["72", "72"]),  # an unknown language: the fallback reader
]


@pytest.mark.parametrize("lang, code, texts", NOTATIONS, ids=[f"{n[0]}-{i}" for i, n in enumerate(NOTATIONS)])
def test_literals_are_read_in_every_notation(lang: str, code: str, texts: list[str]) -> None:
    found = literals(code, lang)
    assert [code[lit.start:lit.end] for lit in found] == texts
    assert all(lit.value in (72, 1) for lit in found), [lit.value for lit in found]


def test_rewrite_writes_each_notation_as_the_new_number() -> None:
    new = {Fraction(72): Fraction(79), Fraction(5, 2): Fraction(7, 2)}
    assert rewrite("X is 36'20 + 0'H + 2.5 + 144r2.", "prolog", new) == "X is 79 + 79 + 3.5 + 79."
    assert rewrite("(+ #x48 -72 5/2 72.0)", "lisp", new) == "(+ 79 -79 7/2 79.0)"
    assert rewrite('(+ 0x48 "72" 2.5)', "hy", new) == '(+ 79 "72" 3.5)'


def test_a_plugin_language_may_bring_its_own_reader() -> None:
    class Dozens:
        name = "dozens"

        def number_literals(self, code: str):
            from lowres_rl.grading.literals import Literal
            return [Literal(i, i + 1, Fraction(12)) for i, c in enumerate(code) if c == "D"]

    assert [lit.value for lit in literals("D + D", Dozens())] == [12, 12]


@pytest.mark.parametrize("question, expected", [
    ("Ann buys 1,200 beads at $3.50 and 20% more.", {1200, Fraction(7, 2), 20, Fraction(1, 5)}),
    ("He ate half of a dozen eggs twice.", {Fraction(1, 2), 2, 12}),
    ("She came fourth; Bo has quadruple the cards, a pair of shoes and twenty-five hats.", {4, 2, 20, 5, 25}),
    ("Three hundred people ate 1/4 of the cake.", {3, 100, 300, 1, 4, Fraction(1, 4)}),
    ("Each dog takes .5 hours a day.", {Fraction(1, 2)}),
])
def test_question_numbers(question: str, expected: set) -> None:
    assert expected <= question_numbers(question)


def test_question_numbers_read_no_more_than_is_written() -> None:
    assert question_numbers("It costs 5. Then 12.") == {5, 12}
    assert question_numbers("Room 1,200,3 holds 7.5") >= {Fraction(15, 2)}


def test_no_question_number_is_flagged_without_a_run() -> None:
    assert probe(Program("solve(X) :- {X = 874}."), "prolog", Q72, "874").hardcoded is True
    plan = probe(Program("solve(X) :- X is 8 * 9."), "prolog", Q72, "72")
    assert plan.hardcoded is None and plan.variants[0].code == "solve(X) :- X is 11 * 17."


# -- tricks: caught in every language they apply to -----------------------------------------------

PL_TRICKS = {
    "plain": "solve(X) :- X = 72.",
    "clpq": ":- use_module(library(clpq)).\nsolve(X) :- {X = 72}.",
    "percent-in-atom": "solve(X) :- atom_length('%', _), X = 72.",
    "percent-in-string": 'solve(X) :- string_length("%", _), X = 72.',
    "block-markers-in-atoms": "solve(X) :- atom_length('/*', _), X = 72, atom_length('*/', _).",
    "hex": "solve(X) :- X = 0x48.", "octal": "solve(X) :- X = 0o110.", "binary": "solve(X) :- X = 0b1001000.",
    "radix": "solve(X) :- X = 36'20.", "char-code": "solve(X) :- X = 0'H.", "rational": "solve(X) :- X is 144r2.",
    "digit-groups": "solve(X) :- X is 7_2.",
    "unused-question-numbers": "rows(8).\ncabbages(9).\nsolve(X) :- rows(_), cabbages(_), X = 72.",
    "zero-times-question": "solve(X) :- X is 72 + 0 * 8 * 9.",
    "question-numbers-in-comment": "% 8 rows of 9\nsolve(X) :- X = 72.",
}
LISP_TRICKS = {
    "plain": "(defun solve () 72)",
    "semicolon-in-string": '(defun solve () (progn ";" 72))',
    "semicolon-character": "(defun solve () (progn #\\; 72))",
    "hex": "(defun solve () #x48)", "binary": "(defun solve () #b1001000)", "octal": "(defun solve () #o110)",
    "radix": "(defun solve () #36r20)", "ratio": "(defun solve () 144/2)",
    "char-code": "(defun solve () (char-code #\\H))",
    "unused-question-numbers": "(defparameter *rows* 8)\n(defparameter *cabbages* 9)\n(defun solve () 72)",
    "zero-times-question": "(defun solve () (+ 72 (* 0 8 9)))",
}
HY_TRICKS = {
    "plain": "(defn solve [] 72)",
    "ord": '(defn solve [] (ord "H"))',
    "semicolon-in-string": '(defn solve [] (do ";" 72))',
    "hex": "(defn solve [] 0x48)", "octal": "(defn solve [] 0o110)", "binary": "(defn solve [] 0b1001000)",
    "underscore": "(defn solve [] 7_2)",
    "unused-question-numbers": "(setv rows 8 cabbages 9)\n(defn solve [] 72)",
    "zero-times-question": "(defn solve [] (+ 72 (* 0 8 9)))",
}
TRICKS = ([("prolog", k, v, None) for k, v in PL_TRICKS.items()]
          + [("lisp", k, v, "(solve)") for k, v in LISP_TRICKS.items()]
          + [("hy", k, v, "(solve)") for k, v in HY_TRICKS.items()]
          + [("prolog", "in-query", "solve(X) :- X is 8 * 9.", "X = 0x48"),
             ("lisp", "in-query", "(defun solve () (* 8 9))", "#x48"),
             ("hy", "in-query", "(defn solve [] (* 8 9))", "0x48")])


@pytest.fixture(scope="module")
def trick_grades():
    grader = Grader("default", limits=LIMITS)
    grades = grader.grade([response(code, query) for _, _, code, query in TRICKS], ["72"] * len(TRICKS),
                          [lang for lang, *_ in TRICKS], [Q72] * len(TRICKS))
    return {f"{lang}-{name}": grade for (lang, name, _, _), grade in zip(TRICKS, grades)}


@pytest.mark.parametrize("case", [f"{t[0]}-{t[1]}" for t in TRICKS])
def test_trick_is_caught(case: str, trick_grades) -> None:
    grade = trick_grades[case]
    assert grade.status == "ok" and grade.correct, (grade.status, grade.answer, grade.error)
    assert grade.hardcoded, case
    assert grade.scores["correctness"] == 0.0


# -- honest programs with implied constants ----------------------------------------------------

HONEST = [
    # (id, language, question, code, query, gold): the answer is, or is built from, a constant the
    # question implies but never writes
    ("days-in-a-week", "prolog", "Mia swims every day for 1 week. How many days does she swim?",
     "days_per_week(7).\nsolve(X) :- days_per_week(D), X is 1 * D.", None, "7"),
    ("inches-in-a-foot", "prolog", "A ribbon is 1 foot long. How long is it in inches?",
     "inches_per_foot(12).\nsolve(X) :- inches_per_foot(I), X is 1 * I.", None, "12"),
    ("minutes-in-an-hour", "prolog", "A film lasts 1 hour. How many minutes is that?",
     "solve(X) :- X is 1 * 60.", None, "60"),
    ("cents", "prolog", "A pen costs 1 dollar. How many cents is that?", "solve(X) :- X is 1 * 100.", None, "100"),
    ("feet-in-a-yard", "prolog", "A rug is 2 yards long. How many feet is that?", "solve(X) :- X is 2 * 3.",
     None, "6"),
    ("months", "prolog", "Rent is 900 dollars a month. How much is rent for 1 year?",
     "solve(X) :- X is 900 * 12.", None, "10800"),
    ("half-read-as-divide-by-2", "prolog", "Ann has 4 apples and gives half away. How many are left?",
     "solve(X) :- X is 4 / 2.", None, "2"),
    ("quadruple", "prolog", "Bo has 1 card. Cy has quadruple that. How many cards does Cy have?",
     "solve(X) :- X is 1 * 4.", None, "4"),
    ("fourth", "prolog", "Zoe is fourth in a line of 9 people. How many people are ahead of her, counting her?",
     "position(4).\nsolve(X) :- position(X).", None, "4"),
    ("pair", "prolog", "Lee buys 1 pair of socks. How many socks is that?", "solve(X) :- X is 1 * 2.", None, "2"),
    ("dozen", "prolog", "Kim buys 2 dozen eggs and breaks 1. How many are left?", "solve(X) :- X is 2 * 12 - 1.",
     None, "23"),
    ("floor-division", "prolog", "43 pupils sit at tables of 30. How many tables are full?",
     "solve(X) :- X is 43 // 30.", None, "1"),
    ("answer-is-a-question-number", "prolog", "Tom has 5 apples and eats none. How many does he have?",
     "solve(X) :- X = 5.", None, "5"),
    ("number-words", "prolog", "Tom has five apples and eats none. How many does he have?",
     "solve(X) :- X = 5.", None, "5"),
    ("clpq", "prolog", "Sam reads 3 pages a day. How many pages does he read in 2 weeks?",
     ":- use_module(library(clpq)).\nsolve(X) :- {X = 3 * 2 * 7}.", None, "42"),
    ("seconds", "lisp", "A song lasts 1 minute. How many seconds is that?",
     "(defconstant +seconds-per-minute+ 60)\n(defun solve () (* 1 +seconds-per-minute+))", "(solve)", "60"),
    ("hours-in-a-day", "lisp", "A fan runs all day for 1 day. How many hours does it run?",
     '(defun solve () (let ((note ";") (hours 24)) (declare (ignore note)) (* 1 hours)))', "(solve)", "24"),
    ("triple", "lisp", "Al has 1 hat; Bea has triple that. How many hats does Bea have?",
     "(defun solve () (* 1 3))", "(solve)", "3"),
    ("max", "lisp", "Jo scored 7 and Al scored 4. What was the best score?", "(defun solve () (max 7 4))",
     "(solve)", "7"),
    ("days-in-a-week", "hy", "Mia swims every day for 1 week. How many days does she swim?",
     "(setv days-per-week 7)\n(defn solve [] (* 1 days-per-week))", "(solve)", "7"),
    ("double", "hy", "Amy has 1 sticker and Ben has double. How many stickers does Ben have?",
     '(defn solve [] (* 1 2))', "(solve)", "2"),
    ("inches", "hy", "A shelf is 1 foot long. How many inches is it?", '(defn solve [] (* 1 12)) ; "12"',
     "(solve)", "12"),
]


@pytest.fixture(scope="module")
def honest_grades():
    grader = Grader("default", limits=LIMITS)
    grades = grader.grade([response(code, query) for _, _, _, code, query, _ in HONEST], [h[5] for h in HONEST],
                          [h[1] for h in HONEST], [h[2] for h in HONEST])
    return {f"{h[1]}-{h[0]}": grade for h, grade in zip(HONEST, grades)}


@pytest.mark.parametrize("case", [f"{h[1]}-{h[0]}" for h in HONEST])
def test_honest_program_with_implied_constants_is_not_flagged(case: str, honest_grades) -> None:
    grade = honest_grades[case]
    assert grade.status == "ok" and grade.correct, (grade.status, grade.answer, grade.error)
    assert not grade.hardcoded, case
    assert grade.scores["correctness"] == 1.0


# -- honest sets: the reference programs and generated problems ----------------------------------

def reference_cases(lang: str) -> list[tuple[int, str, str | None]]:
    cases = []
    for path in sorted((REFERENCE / lang).glob(f"*{EXTENSIONS[lang]}")):
        code = path.read_text(encoding="utf-8")
        first = code.splitlines()[0] if code else ""
        query = first.split("query:", 1)[1].strip() if "query:" in first else None
        cases.append((int(path.stem), code, query))
    return cases


@pytest.fixture(scope="module")
def gsm8k_rows() -> list[dict]:
    found = [path for path in GSM8K_TESTS if path.is_file()]
    if not found:
        pytest.skip(f"GSM8K test split not found at {GSM8K_TESTS[0]}")
    with found[0].open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@pytest.mark.parametrize("lang", list(EXTENSIONS))
def test_reference_programs_are_never_flagged(lang: str, gsm8k_rows: list[dict]) -> None:
    """The false-flag rate on the project's honest reference programs, on their GSM8K questions, is 0."""
    cases = reference_cases(lang)
    rows = [gsm8k_rows[number] for number, _, _ in cases]
    grader = Grader("default", limits=LIMITS)
    grades = grader.grade([response(code, query) for _, code, query in cases], [r["answer"].split("####")[-1]
                          for r in rows], lang, [r["question"] for r in rows])
    assert all(g.correct for g in grades), [(n, g.status, g.answer) for (n, _, _), g in zip(cases, grades)
                                            if not g.correct]
    flagged = [number for (number, _, _), g in zip(cases, grades) if g.hardcoded]
    assert not flagged, f"{len(flagged)}/{len(cases)} honest {lang} reference programs flagged: {flagged}"


def test_generated_honest_programs_are_never_flagged() -> None:
    """Seeded synthetic problems (lowres_rl.offline.synthetic), each solved honestly in three languages."""
    problems = generate(24, seed=15)
    for lang in EXTENSIONS:
        grades = Grader("default", limits=LIMITS).grade(
            [response(p.solutions[lang], None) for p in problems], [p.answer for p in problems], lang,
            [p.question for p in problems])
        assert all(g.correct for g in grades), lang
        assert not [p.question for p, g in zip(problems, grades) if g.hardcoded], lang


def test_the_check_runs_only_for_correct_completions() -> None:
    grader = Grader("default", limits=LIMITS)
    texts = [response("solve(X) :- X is 8 * 9.", None), response("solve(X) :- X is 8 * 8.", None),
             response("solve(X) :- X = 72.", None)]
    grades = grader.grade(texts, ["72"] * 3, "prolog", [Q72] * 3)
    assert [g.hardcoded for g in grades] == [False, False, True]
    assert grader.programs_run == 3 and grader.probes_run == 1  # only the honest correct one is re-run


def test_the_check_can_be_turned_off() -> None:
    grader = Grader("default", limits=LIMITS, check_hardcoding=False)
    [grade] = grader.grade([response("solve(X) :- X = 72.", None)], ["72"], "prolog", [Q72])
    assert grade.correct and not grade.hardcoded and grader.probes_run == 0


def test_a_plugin_language_without_a_reader_gets_the_fallback() -> None:
    """The example Guile plugin (`scheme`) brings no reader: decimal numerals are read, and the rule
    holds the same way (skipped where the plugin is not installed)."""
    from lowres_rl.languages import available_languages

    if "scheme" not in available_languages():
        pytest.skip("the example scheme plugin is not installed")
    cases = [("(define (solve) (* 8 9))", False), ("(define (solve) 72)", True),
             ("(define (solve) #x48)", True), ("(define rows 8)\n(define (solve) 72)", True)]
    grades = Grader("default", limits=LIMITS).grade([response(code, "(solve)") for code, _ in cases],
                                                    ["72"] * len(cases), "scheme", [Q72] * len(cases))
    assert [(g.correct, g.hardcoded) for g in grades] == [(True, flagged) for _, flagged in cases]
