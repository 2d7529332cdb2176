"""How each language reads a query and what its answer is (prolog, lisp, hy, in real sandbox
workers): explicit and default queries, Prolog's first numeric binding, Lisp and Hy values, and
a query that is not one expression."""
from __future__ import annotations

import pytest
from test_languages import LANGUAGES, ORDINARY, run

from lowres_rl.languages import Program, Status


# -- query handling ----------------------------------------------------------------------------

def test_prolog_answers_and_queries() -> None:
    programs = [
        Program("total(X) :- X is 6*7.", query="?- total(X)."),
        Program("total(X) :- X is 6*7.", query="total(X)"),
        Program(":- use_module(library(clpq)).\nsolve(X) :- {X = 7/2}.", query=None),
        Program("solve(X) :- {X = 7/2}."),  # clpq is available without the import
        Program("solve(1).\nother(X) :- X is 6*7.", query="other(X)"),  # explicit beats default
        Program("solve(X) :- fail."),
        Program("solve(_)."),
        Program("solve(X) :- true.", query="solve(_)"),
        Program("solve(X) :- write(hello), nl, X is 6*7."),
        Program("solve(X) :- Unused = 1, X is 6*7."),
    ]
    results = run("prolog", programs)
    assert [(r.status, r.answer) for r in results[:5]] == [
        (Status.OK, "42"), (Status.OK, "42"), (Status.OK, "3.5"), (Status.OK, "3.5"), (Status.OK, "42")]
    assert [r.status for r in results[5:8]] == [Status.NO_ANSWER] * 3
    assert all(r.answer is None for r in results[5:8])
    assert (results[8].status, results[8].answer, results[8].stdout) == (Status.OK, "42", "hello\n")
    singleton = results[9]
    assert (singleton.status, singleton.answer) == (Status.OK, "42")
    assert any("Singleton" in w and "Unused" in w for w in singleton.warnings), singleton.warnings
    assert not results[0].warnings


def test_prolog_first_numeric_binding_is_the_answer() -> None:
    [result] = run("prolog", [Program("pair(a, 7).", query="pair(Name, N)")])
    assert (result.status, result.answer) == (Status.OK, "7")


LISPY = {
    "lisp": {"ratio": "(defun solve () (/ 7 2))",
             "explicit": "(defun solve () 1) (defun total-cost () (* 6 7))",
             "print": '(defun solve () (princ "hello") (* 6 7))'},
    "hy": {"ratio": "(defn solve [] (/ 7 2))",
           "explicit": "(defn solve [] 1) (defn total-cost [] (* 6 7))",
           "print": '(defn solve [] (print "hello" :end "") (* 6 7))'},
}


@pytest.mark.parametrize("lang", ["lisp", "hy"])
def test_lisp_and_hy_answers_and_queries(lang: str) -> None:
    snippets = LISPY[lang]
    ratio, explicit, default, printing = run(lang, [
        Program(snippets["ratio"]),
        Program(snippets["explicit"], query="(total-cost)"),
        Program(snippets["explicit"]),
        Program(snippets["print"]),
    ])
    assert (ratio.status, ratio.answer) == (Status.OK, "3.5")
    assert (explicit.status, explicit.answer) == (Status.OK, "42")
    assert (default.status, default.answer) == (Status.OK, "1")
    assert (printing.status, printing.answer) == (Status.OK, "42")
    assert printing.stdout == "hello"
    assert explicit.stdout == ""


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_query_that_is_not_one_expression_is_a_syntax_error(lang: str) -> None:
    query = {"prolog": "solve(X", "lisp": "(solve) (solve)", "hy": "(solve) (solve)"}[lang]
    [result] = run(lang, [Program(ORDINARY[lang], query=query)])
    assert result.status is Status.SYNTAX_ERROR, result
