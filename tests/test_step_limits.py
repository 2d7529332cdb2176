"""Work budgets and cheap isolation, with the real SBCL and Hy in real sandbox workers.

Lisp and Hy count loop iterations and calls against `Limits.steps`, as Prolog counts inferences,
so that an endless loop ends as `timeout` inside the interpreter ("step limit exceeded"), without
a kill, however the program tries to catch it; the counting must not change what ordinary loops
compute. Hy runs programs that can reach nothing outside their own values in the worker itself,
unforked (lowres_rl.languages.confined): that rule, and that such programs leave nothing behind.
"""
from __future__ import annotations

import json
import subprocess
import sys
import types

import pytest

from lowres_rl.languages import Limits, Program, Status, get_language
from lowres_rl.languages.confined import is_confined
from lowres_rl import sandbox

LIMITS = Limits(timeout=5.0)  # long: these runaways must stop on their step budget, well before
STEP_LIMIT = "step limit exceeded"

RUNAWAYS = {
    "lisp": {
        "simple loop": "(defun solve () (loop (+ 1 1)))",
        "extended loop": "(defun solve () (loop for i from 0 while (>= i 0) sum i))",
        "do": "(defun solve () (do ((i 0 (1+ i))) ((< i 0)) (+ i 1)))",
        "dotimes": "(defun solve () (let ((x 0)) (dotimes (i most-positive-fixnum) (incf x)) x))",
        "flet calls in a loop": "(defun solve () (flet ((f (x) (+ x 1))) (let ((n 0)) (loop (setf n (f n))))))",
        "handler-case around it": "(defun solve () (handler-case (loop) (condition () 42)))",
        "unwind-protect returning": "(defun solve () (block b (unwind-protect (loop) (return-from b 5))))",
    },
    "hy": {
        "while": "(defn solve [] (setv i 0) (while (>= i 0) (setv i (+ i 1))))",
        "for over a count": "(import itertools) (defn solve [] (for [i (itertools.count)] (+ i 1)))",
        "comprehension": "(import itertools) (defn solve [] (sum (gfor i (itertools.count) i)))",
        "except BaseException": "(defn solve [] (try (while True (+ 1 1)) (except [BaseException] 42)))",
        "finally returning": "(defn solve [] (try (while True (+ 1 1)) (finally (return 5))))",
        "calls in a loop": "(defn f [x] (+ x 1)) (defn solve [] (setv n 0) (while True (setv n (f n))))",
    },
}
RUNAWAY_CASES = [pytest.param(lang, name, id=f"{lang}-{name}") for lang, cases in RUNAWAYS.items() for name in cases]

# Loops the counting macros rewrite must compute what Common Lisp says they compute.
LISP_FORMS = [
    ("(defun solve () (loop for i from 1 to 10000 sum i))", "50005000"),
    ('(defun solve () "doc" (declare (optimize speed)) (* 6 7))', "42"),
    ("(defun solve () (length (loop for i below 10 when (evenp i) collect i)))", "5"),
    ("(defun solve () (loop for i below 10 sum i into s finally (return s)))", "45"),
    ("(defun solve () (loop named outer for i from 1 do (when (> i 41) (return-from outer i))))", "42"),
    ("(defun solve () (let ((s 0)) (dolist (x '(1 2 3) s) (incf s x))))", "6"),
    ("(defun solve () (let ((s 0)) (dotimes (i 7 (* s 2)) (declare (fixnum i)) (incf s 3))))", "42"),
    ("(defun solve () (do ((i 0 (1+ i)) (s 0 (+ s i))) ((= i 4) s) (declare (ignorable s))))", "6"),
    ('(defun solve () (flet ((sq (x) "doc" (* x x))) (sq 7)))', "49"),
    ("(defun solve () (labels ((f (n) (if (= n 0) 1 (* n (f (- n 1)))))) (f 5)))", "120"),
    ("(defun solve () (let ((n 0)) (loop (incf n) (when (= n 42) (return n)))))", "42"),
    ("(defun solve () (reduce #'+ (mapcar #'(lambda (x) (* x 2)) '(1 2 3))))", "12"),
]


def run(lang: str, codes: list[str], limits: Limits = LIMITS, workers: int = 1) -> list:
    return sandbox.run(get_language(lang), [Program(code) for code in codes], limits, workers=workers)


@pytest.mark.parametrize(("lang", "name"), RUNAWAY_CASES)
def test_runaway_ends_on_its_step_budget(lang: str, name: str) -> None:
    [result] = run(lang, [RUNAWAYS[lang][name]])
    assert result.status is Status.TIMEOUT and STEP_LIMIT in result.error, result


@pytest.mark.parametrize("lang", ["lisp", "hy"])
def test_the_budget_is_the_one_in_limits(lang: str) -> None:
    program = {"lisp": "(defun solve () (loop for i from 1 to 1000 sum i))",
               "hy": "(defn solve [] (setv s 0) (for [i (range 1 1001)] (setv s (+ s i))) s)"}[lang]
    [enough] = run(lang, [program], Limits(timeout=5.0, steps=5000))
    [short] = run(lang, [program], Limits(timeout=5.0, steps=500))
    assert (enough.status, enough.answer) == (Status.OK, "500500"), enough
    assert short.status is Status.TIMEOUT and STEP_LIMIT in short.error, short


def test_counted_lisp_loops_compute_what_common_lisp_says() -> None:
    results = run("lisp", [code for code, _ in LISP_FORMS], workers=2)
    got = [(r.status, r.answer) for r in results]
    assert got == [(Status.OK, answer) for _, answer in LISP_FORMS], [r.error for r in results]


def test_lisp_deep_recursion_is_memory_and_sbcl_survives() -> None:
    """Interpreted calls eat the control stack fast, and SBCL cannot always recover from
    exhausting it: the counted call refuses to go deeper first."""
    results = run("lisp", ["(defun f (n) (f (+ n 1))) (defun solve () (f 0))",
                           "(defun f (n) (+ 1 (f n))) (defun solve () (f 0))",
                           "(defun solve () (* 6 7))"])
    assert [r.status for r in results] == [Status.MEMORY, Status.MEMORY, Status.OK], results
    assert all("recursion too deep" in r.error for r in results[:2])


def test_lisp_programs_cannot_touch_the_counting_package() -> None:
    redefined, interned, after = run("lisp", ["(defmacro loop (&rest x) (declare (ignore x)) 42) (defun solve () 1)",
                                              "(defun solve () (lowres-cl::sneak))",
                                              RUNAWAYS["lisp"]["simple loop"]])
    assert redefined.status is Status.RUNTIME_ERROR and "LOWRES-CL" in redefined.error, redefined
    assert interned.status is Status.SYNTAX_ERROR and "LOWRES-CL" in interned.error, interned
    assert after.status is Status.TIMEOUT and STEP_LIMIT in after.error, after


def test_hy_programs_with_macros_compile_in_their_child() -> None:
    results = run("hy", ["(defmacro twice [x] `(* 2 ~x)) (defn solve [] (twice 21))",
                         "(defmacro forever [] `(while True (+ 1 1))) (defn solve [] (forever))",
                         "(defn solve [] (twice 21))"])  # the macro did not outlive its program
    assert [(r.status, r.answer) for r in results[:2]] == [(Status.OK, "42"), (Status.TIMEOUT, None)], results
    assert results[2].status is Status.RUNTIME_ERROR and "twice" in results[2].error, results[2]


# -- Hy confinement ------------------------------------------------------------------------------

def python_ast(source: str):
    import hy
    from hy.compiler import hy_compile
    from hy.models import Expression, Symbol

    return hy_compile(Expression([Symbol("do"), *hy.read_many(source)]), types.ModuleType("program"),
                      import_stdlib=False)


CONFINED = [
    "(defn solve [] (setv eggs (- 16 3 4)) (* eggs 2))",
    "(defn solve [] (let [a 3 b 4] (+ (* a a) (* b b))))",
    "(defn solve [] (sum (lfor i (range 10) :if (% i 2) i)))",
    "(defn solve [] (setv f (fn [x] (* x 2))) (round (/ (f 7) 3) 2))",
    '(defn solve [] (try (int "x") (except [e ValueError] (print f"bad {e !r}") 0)))',
    "(defn solve [] (setv d {\"a\" 1}) (setv (get d \"b\") 2) (max (list d)))",
]
NOT_CONFINED = [
    "(defn solve [] (setv xs []) (.append xs 1) (len xs))",             # an attribute
    "(import math) (defn solve [] (math.sqrt 4))",                       # an import
    '(defn solve [] (open "/etc/passwd"))',                               # a builtin that is not pure
    '(defn solve [] (getattr 1 "real"))',
    '(defn solve [] (setv (get __builtins__ "len") None))',              # a dunder name
    "(defclass A []) (defn solve [] (A))",                                 # a class
    "(defn solve [] (try (while True 1) (except [] 0)))",                 # a bare except
    "(defn solve [] (try (while True 1) (except [BaseException] 0)))",
    "(defn solve [] (try (while True 1) (finally (return 0))))",         # finally leaving early
]


@pytest.mark.parametrize("source", CONFINED)
def test_pure_programs_are_confined(source: str) -> None:
    assert is_confined(python_ast(source))


@pytest.mark.parametrize("source", NOT_CONFINED)
def test_programs_that_can_reach_out_are_not_confined(source: str) -> None:
    assert not is_confined(python_ast(source))


def test_confined_programs_leave_nothing_behind() -> None:
    """Shadowing builtins, printing, failing: the next program in the same worker sees none of it."""
    results = run("hy", ["(setv len (fn [x] 0)) (defn solve [] (len [1 2]))",
                         '(defn solve [] (print "from the first") (setv total 5) (/ 1 0))',
                         "(defn solve [] (+ (len [1 2 3]) (if (in \"total\" (dir)) 100 0)))",
                         "(defn solve [] (len [1 2 3]))"])
    assert (results[0].status, results[0].answer) == (Status.OK, "0"), results[0]
    assert results[1].status is Status.RUNTIME_ERROR and results[1].stdout == "from the first\n", results[1]
    assert (results[2].status, results[2].answer) == (Status.OK, "3"), results[2]  # `dir`: forked, clean too
    assert (results[3].status, results[3].answer, results[3].stdout) == (Status.OK, "3", ""), results[3]


# -- the budgets on the command line -------------------------------------------------------------

def run_cli(*args: str, stdin: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lowres_rl.run", *args], input=stdin, capture_output=True,
                          text=True, timeout=120)


def test_run_cli_takes_the_work_budgets() -> None:
    loop = "(defun solve () (loop for i from 1 to 1000 sum i))"
    enough, short = run_cli("--lang", "lisp", stdin=loop), run_cli("--lang", "lisp", "--steps", "100", stdin=loop)
    assert enough.returncode == 0 and json.loads(enough.stdout)["answer"] == "500500", enough.stderr
    assert short.returncode == 1 and STEP_LIMIT in json.loads(short.stdout)["error"], short.stdout
    prolog = run_cli("--lang", "prolog", "--inferences", "1000", stdin="solve(X) :- numlist(1, 100000, L), sum_list(L, X).")
    assert json.loads(prolog.stdout)["status"] == "timeout", prolog.stdout


@pytest.mark.parametrize("flag", ["--steps", "--inferences", "--timeout"])
def test_run_cli_refuses_a_budget_that_is_not_positive(flag: str) -> None:
    done = run_cli("--lang", "hy", flag, "0", stdin="(defn solve [] 1)")
    assert done.returncode == 2 and flag in done.stderr and "positive" in done.stderr, done.stderr
