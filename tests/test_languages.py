"""Tests for the language plugins (prolog, lisp, hy) through `sandbox.run`, with the real
interpreters in real sandbox workers: reference solutions against GSM8K gold, hostile programs
(loops, exits, catch-alls, memory bombs) and how the workers recover, and batches (queries and
answers: tests/test_queries.py)."""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from lowres_rl.languages import Execution, Limits, Program, Status, get_language
from lowres_rl import sandbox

LANGUAGES = ("prolog", "lisp", "hy")
REFERENCE = Path(__file__).resolve().parent / "reference"
EXTENSIONS = {"prolog": ".pl", "lisp": ".lisp", "hy": ".hy"}
QUERY_COMMENT = re.compile(r"^\s*(?:%+|;+)\s*query:\s*(?P<query>.+?)\s*$")

FAST = Limits(timeout=1.0)   # hostile programs
SLACK = 1.0                  # seconds past the limit a hostile program may take, start to finish
WORKERS = 2

# The ordinary program that must work after anything else: answers 42.
ORDINARY = {
    "prolog": "solve(X) :- X is 6*7.",
    "lisp": "(defun solve () (* 6 7))",
    "hy": "(defn solve [] (* 6 7))",
}

# kind -> program, per language. Every kind exists in every language.
HOSTILE = {
    "prolog": {
        "loop": "spin(X) :- spin(X).\nsolve(X) :- spin(X).",
        "catch_all": "loop :- loop.\nsolve(X) :- repeat, catch(loop, _, true), fail.",
        "exit": "solve(X) :- X = 1, halt.",
        "hard_exit": "solve(X) :- X = 1, system:halt.",          # bypasses the redefined halt/0
        "memory": "solve(X) :- length(L, 1000000000), X = L.",
        "syntax": "solve(X) :- X is 6 * .",
        "runtime": "solve(X) :- undefined_helper(X).",
        "type_error": "solve(X) :- X is foo + 1.",
    },
    "lisp": {
        "loop": "(defun solve () (loop))",
        "catch_all": "(defun solve () (loop (handler-case (loop) (condition () nil))))",
        "exit": "(defun solve () (sb-ext:exit))",
        "hard_exit": '(defun solve () (funcall (find-symbol "EXIT" "SB-EXT") :code 3 :abort t))',
        "memory": "(defun solve () (let ((l nil)) (loop (push (make-array 100000) l))))",
        "syntax": "(defun solve () (* 6 7)",
        "runtime": "(defun solve () (undefined-helper 3))",
        "type_error": '(defun solve () (+ 1 "a"))',
    },
    "hy": {
        "loop": "(defn solve [] (while True (setv x 1)))",
        "catch_all": ("(defn spin [] (while True (sum [1 2])))\n"
                      "(defn solve [] (while True (try (spin) (except [BaseException] None))))"),
        "exit": "(import sys) (defn solve [] (sys.exit 1))",
        "hard_exit": "(import os) (defn solve [] (os._exit 3))",
        "memory": "(defn solve [] (len (* [None] (** 10 10))))",
        "syntax": "(defn solve [] (* 6 7)",
        "runtime": "(defn solve [] (undefined-helper 3))",
        "type_error": '(defn solve [] (+ 1 "a"))',
    },
}
KINDS = tuple(HOSTILE["prolog"])
assert all(tuple(programs) == KINDS for programs in HOSTILE.values())

NOT_OK = frozenset(Status) - {Status.OK, Status.NO_PROGRAM}
EXPECTED = {
    "loop": {Status.TIMEOUT},
    "catch_all": {Status.TIMEOUT},
    "exit": NOT_OK,
    "hard_exit": NOT_OK,
    "memory": {Status.MEMORY, Status.CRASHED},
    "syntax": {Status.SYNTAX_ERROR},
    "runtime": {Status.RUNTIME_ERROR},
    "type_error": {Status.RUNTIME_ERROR},
}
TIMED = {"loop", "catch_all"}  # must stop within limit + SLACK, measured around `run`
HOSTILE_CASES = [pytest.param(lang, kind, id=f"{lang}-{kind}") for lang in LANGUAGES for kind in KINDS]


def run(lang: str, codes: list[str | Program], limits: Limits = FAST, workers: int = WORKERS) -> list[Execution]:
    programs = [c if isinstance(c, Program) else Program(c) for c in codes]
    results = sandbox.run(get_language(lang), programs, limits, workers=workers)
    assert len(results) == len(programs)
    assert all(isinstance(r, Execution) for r in results)
    return results


def copies(lang: str, code: str, n: int) -> list[str]:
    """`n` copies of a program that differ in a comment: identical programs run once per batch."""
    comment = "%" if lang == "prolog" else ";"
    return [f"{code}\n{comment} copy {i}" for i in range(n)]


def warm(lang: str, workers: int) -> None:
    """Start (or restart) the workers so that a timed run measures the program, not a start-up."""
    results = run(lang, copies(lang, ORDINARY[lang], workers), workers=workers)
    assert [(r.status, r.answer) for r in results] == [(Status.OK, "42")] * workers


def drop_worn_workers(lang: str, kind: str) -> None:
    """After a memory bomb, start the next test on fresh workers: an SBCL that exhausted its heap
    stays fragile (see test_lisp_program_after_heap_exhaustion_works), and that must not make
    unrelated tests flaky."""
    if kind == "memory":
        sandbox.close(get_language(lang))


def assert_ordinary(result: Execution) -> None:
    assert (result.status, result.answer) == (Status.OK, "42"), result


# -- reference solutions -----------------------------------------------------------------------

def reference_programs(lang: str) -> list[tuple[int, Program]]:
    found = []
    for path in sorted((REFERENCE / lang).glob(f"*{EXTENSIONS[lang]}")):
        code = path.read_text(encoding="utf-8")
        first = code.splitlines()[0] if code else ""
        match = QUERY_COMMENT.match(first)
        found.append((int(path.stem), Program(code, query=match["query"] if match else None)))
    return found


@pytest.mark.parametrize("lang", LANGUAGES)
def test_reference_programs_match_gsm8k_gold(lang: str, gsm8k_gold) -> None:
    cases = reference_programs(lang)
    assert len(cases) >= 20
    if lang == "prolog":
        assert sum("clpq" in program.code for _, program in cases) >= 5
    results = run(lang, [program for _, program in cases], limits=Limits(timeout=5.0))
    wrong = []
    for (number, program), result in zip(cases, results):
        gold = gsm8k_gold(number)
        try:
            ok = result.status is Status.OK and abs(float(result.answer) - gold) < 1e-6
        except (TypeError, ValueError):
            ok = False
        if not ok:
            wrong.append((number, gold, result.status.value, result.answer, result.error[:200]))
    assert not wrong, f"{len(wrong)}/{len(cases)} {lang} reference programs disagree with gold: {wrong}"


def test_reference_query_comments_are_used() -> None:
    """The override comment is read (some programs in each language rely on it)."""
    for lang in LANGUAGES:
        queries = [p.query for _, p in reference_programs(lang) if p.query]
        assert queries, lang
        assert all(q != get_language(lang).default_query for q in queries)


# -- hostile programs --------------------------------------------------------------------------

@pytest.mark.parametrize("lang, kind", HOSTILE_CASES)
def test_hostile_program_is_contained_then_next_call_works(lang: str, kind: str) -> None:
    """Consecutive run calls on one worker: ordinary, hostile (status, and time for loops), ordinary."""
    warm(lang, workers=1)
    try:
        started = time.monotonic()
        [hostile] = run(lang, [HOSTILE[lang][kind]], workers=1)
        elapsed = time.monotonic() - started
        assert hostile.status in EXPECTED[kind], hostile
        assert hostile.answer is None
        if kind in TIMED:
            assert elapsed < FAST.timeout + SLACK, f"{kind} took {elapsed:.2f}s"
        [after] = run(lang, [ORDINARY[lang]], workers=1)
        assert_ordinary(after)
    finally:
        drop_worn_workers(lang, kind)


@pytest.mark.parametrize("lang, kind", HOSTILE_CASES)
def test_hostile_program_then_ordinary_in_one_batch(lang: str, kind: str) -> None:
    try:
        hostile, after = run(lang, [HOSTILE[lang][kind], ORDINARY[lang]], workers=1)
        assert hostile.status in EXPECTED[kind], hostile
        assert hostile.answer is None
        assert_ordinary(after)
    finally:
        drop_worn_workers(lang, kind)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_timeouts_in_parallel_stay_within_the_limit(lang: str) -> None:
    """Two workers each stuck in a loop that swallows every error: both stopped near the limit."""
    warm(lang, workers=WORKERS)
    programs = [HOSTILE[lang]["catch_all"], HOSTILE[lang]["loop"]]
    started = time.monotonic()
    results = run(lang, programs)
    elapsed = time.monotonic() - started
    assert [r.status for r in results] == [Status.TIMEOUT, Status.TIMEOUT]
    assert elapsed < FAST.timeout + SLACK
    assert all(r.seconds < FAST.timeout + SLACK for r in results)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_exit_does_not_end_the_test_process(lang: str) -> None:
    programs = [HOSTILE[lang]["exit"], HOSTILE[lang]["hard_exit"], ORDINARY[lang]]
    results = run(lang, programs)
    assert results[0].status is not Status.OK and results[1].status is not Status.OK
    assert_ordinary(results[2])  # and this line runs: the test process is still here


# -- state never leaks between programs --------------------------------------------------------

DEFINES_HELPER = {
    "prolog": "helper(42).\nsolve(X) :- helper(X).",
    "lisp": "(defun helper () 42) (defun solve () (helper))",
    "hy": "(defn helper [] 42) (defn solve [] (helper))",
}
CALLS_HELPER = {
    "prolog": "solve(X) :- helper(X).",
    "lisp": "(defun solve () (helper))",
    "hy": "(defn solve [] (helper))",
}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_definitions_do_not_leak_into_the_next_program(lang: str) -> None:
    [defines] = run(lang, [DEFINES_HELPER[lang]], workers=1)
    assert (defines.status, defines.answer) == (Status.OK, "42")
    [calls] = run(lang, [CALLS_HELPER[lang]], workers=1)  # same single worker, next call
    assert calls.status is Status.RUNTIME_ERROR, calls
    assert calls.answer is None
    assert "helper" in calls.error.lower()


# Global state a program can reach past its fresh module/package: the user module (Prolog),
# CL's global reader variables (Lisp), the builtins module (Hy). The second program must not see it.
POISONS = {
    "prolog": (":- assertz(user:helper(42)).\nsolve(1).", CALLS_HELPER["prolog"], Status.RUNTIME_ERROR, None),
    "lisp": ("(setf *read-base* 16) (defun solve () 1)", "(defun solve () (+ 10 1))", Status.OK, "11"),
    "hy": ("(import builtins) (setv builtins.helper (fn [] 42)) (defn solve [] 1)", CALLS_HELPER["hy"],
           Status.RUNTIME_ERROR, None),
}
@pytest.mark.parametrize("lang", LANGUAGES)
def test_global_state_does_not_leak_into_the_next_program(lang: str) -> None:
    poison, victim, status, answer = POISONS[lang]
    try:
        [first] = run(lang, [poison], workers=1)
        if lang == "prolog" and first.status is Status.RUNTIME_ERROR:
            assert "permission" in first.error.lower(), first  # guard.pl refuses the cross-module assert
        else:
            assert (first.status, first.answer) == (Status.OK, "1")
        [second] = run(lang, [victim], workers=1)
        assert second.status is status, second
        assert second.answer == answer
    finally:
        sandbox.close(get_language(lang))  # never hand a poisoned worker to the next test


# -- Lisp: SBCL death --------------------------------------------------------------------------

def test_lisp_program_after_heap_exhaustion_works() -> None:
    allocating = "(defun solve () (length (make-list 100000)))"
    bomb, victim = run("lisp", [HOSTILE["lisp"]["memory"], allocating], workers=1)
    assert bomb.status is Status.MEMORY
    assert (victim.status, victim.answer) == (Status.OK, "100000"), victim


def test_lisp_sbcl_exit_is_not_reported_as_a_timeout() -> None:
    results = run("lisp", copies("lisp", HOSTILE["lisp"]["hard_exit"], 8))
    early = [r for r in results if r.status is Status.TIMEOUT and r.seconds < FAST.timeout]
    assert not early, [(r.status.value, r.seconds, r.error) for r in early]
    assert all(r.status is Status.CRASHED for r in results)


def test_prolog_halt_is_refused_and_costs_no_worker() -> None:
    """halt/0,1 are redefined in each program's own module (an inherited redefinition would lose
    to the system predicate): a program calling them fails, and the worker lives on."""
    warm("prolog", workers=1)
    before = sandbox.running(get_language("prolog")).pids()
    results = run("prolog", ["solve(X) :- X = 1, halt.", "solve(X) :- X = 1, halt(3).", ORDINARY["prolog"]],
                  workers=1)
    assert [r.status for r in results] == [Status.RUNTIME_ERROR, Status.RUNTIME_ERROR, Status.OK], results
    assert all("halt" in r.error for r in results[:2])
    assert sandbox.running(get_language("prolog")).pids() == before


def test_identical_programs_in_a_batch_run_once() -> None:
    """A GRPO group often repeats one completion: the copies share one run, as separate objects.
    The program answers the time of its run in nanoseconds (a file it leaves in its directory
    would not do: the worker empties it after every program), so copies that ran once agree."""
    clock = "(import time) (defn solve [] (time.time_ns))"
    results = run("hy", [clock, ORDINARY["hy"], clock, clock], workers=1)
    assert [r.status for r in results] == [Status.OK] * 4 and results[1].answer == "42"
    assert results[0].answer == results[2].answer == results[3].answer, results
    assert len({id(r) for r in results}) == 4
    results[0].warnings.append("changed")
    assert results[2].warnings == []
    [again] = run("hy", [clock], workers=1)  # a later batch runs it again
    assert again.status is Status.OK and again.answer != results[0].answer, again


# -- no program ---------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_program_starts_nothing(lang: str) -> None:
    language = type(get_language(lang))()  # a fresh instance: no pool yet
    programs = [Program(""), Program("  \n\t"), Program("", error="no code block in the response")]
    results = sandbox.run(language, programs, FAST, workers=WORKERS)
    assert [r.status for r in results] == [Status.NO_PROGRAM] * 3
    assert results[2].error == "no code block in the response"
    assert all(r.answer is None and r.seconds == 0.0 for r in results)
    assert sandbox.running(language) is None  # no worker pool was ever built
    sandbox.close(language)


# -- batches --------------------------------------------------------------------------------------

MIXED = {  # "other": the program in the sixth slot (no memory bomb for Lisp: see the heap bug)
    "prolog": {"ok": "solve(X) :- X is {n} * 3.", "other": ("solve(X) :- fail.", {Status.NO_ANSWER})},
    "lisp": {"ok": "(defun solve () (* {n} 3))", "other": (HOSTILE["lisp"]["type_error"], {Status.RUNTIME_ERROR})},
    "hy": {"ok": "(defn solve [] (* {n} 3))", "other": (HOSTILE["hy"]["memory"], EXPECTED["memory"])},
}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_mixed_batch_comes_back_in_input_order(lang: str) -> None:
    programs: list[Program] = []
    expected: list[tuple[set[Status], str | None]] = []
    for n in range(30):
        slot = n % 6
        if slot in (0, 3):
            programs.append(Program(MIXED[lang]["ok"].format(n=n)))
            expected.append(({Status.OK}, str(3 * n)))
        elif slot == 1:
            programs.append(Program(HOSTILE[lang]["syntax"]))
            expected.append(({Status.SYNTAX_ERROR}, None))
        elif slot == 2:
            programs.append(Program(HOSTILE[lang]["runtime"]))
            expected.append(({Status.RUNTIME_ERROR}, None))
        elif slot == 4:
            programs.append(Program("", error="no code"))
            expected.append(({Status.NO_PROGRAM}, None))
        else:
            code, statuses = MIXED[lang]["other"]
            programs.append(Program(code))
            expected.append((statuses, None))
    programs[7] = Program(HOSTILE[lang]["loop"])  # one timeout in the middle of the batch
    expected[7] = ({Status.TIMEOUT}, None)
    results = run(lang, programs)
    wrong = [(i, r.status.value, r.answer, statuses, answer)
             for i, (r, (statuses, answer)) in enumerate(zip(results, expected))
             if r.status not in statuses or r.answer != answer]
    assert not wrong


HUGE_ANSWER = {"prolog": "solve(X) :- X is 10^99999.", "lisp": "(defun solve () (expt 10 99999))",
               "hy": "(defn solve [] (** 10 99999))"}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_an_answer_too_long_to_write_is_a_runtime_error(lang: str) -> None:
    """A 100,000-digit answer is refused in the worker (Hy's int-to-text limit crashed it before),
    and the worker goes on to the next program."""
    language = get_language(lang)
    huge, fine = sandbox.run(language, [Program(HUGE_ANSWER[lang], language.default_query),
                               Program(HUGE_ANSWER[lang].replace("99999", "2"), language.default_query)],
                              Limits())
    assert huge.status is Status.RUNTIME_ERROR and "more than" in huge.error, huge
    assert (fine.status, fine.answer) == (Status.OK, "100"), fine
