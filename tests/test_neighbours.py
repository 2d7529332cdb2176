"""Programs that cannot touch each other (issue 14, class 6): after every program, the state a later
program depends on is as it was. Each test runs an altering program and then ordinary ones on the
same worker (real workers, real interpreters) and compares with what they give on their own.

    python -m pytest -q tests/test_neighbours.py
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import lowres_rl.sandbox.isolation as isolation
from lowres_rl.languages import Execution, Limits, Status, get_language

from conftest import one_worker

LIMITS = Limits(timeout=2.0)
REFERENCE = Path(__file__).parent / "reference"
QUERY_COMMENT = re.compile(r"^\s*(?:%+|;+)\s*query:\s*(?P<query>.+?)\s*$")
EXTENSIONS = {"prolog": ".pl", "lisp": ".lisp", "hy": ".hy"}
pytestmark = pytest.mark.skipif(not isolation.level().startswith(("bwrap", "namespaces")),
                                reason="no OS isolation here: hostile programs would hit this machine")


def reference_jobs(lang: str) -> list[tuple[str, str]]:
    language = get_language(lang)
    jobs = []
    for path in sorted((REFERENCE / lang).glob(f"*{EXTENSIONS[lang]}")):
        code = path.read_text(encoding="utf-8")
        match = QUERY_COMMENT.match(code.splitlines()[0] if code else "")
        jobs.append((code, language.normalize_query(match["query"]) if match else language.default_query))
    return jobs


def outcomes(results: list[Execution]) -> list[tuple[Status, str | None]]:
    return [(r.status, r.answer) for r in results]


def assert_unchanged_after(lang: str, alterers: dict[str, str], query: str, jobs: list[tuple[str, str]]) -> None:
    """`jobs` give the same outcomes after each alterer as they give first, on a fresh worker."""
    batch = list(jobs)
    for code in alterers.values():
        batch += [(code, query), *jobs]
    results = one_worker(lang, batch, LIMITS)
    expected = outcomes(results[:len(jobs)])
    changed = []
    for i, name in enumerate(alterers):
        start = len(jobs) + i * (len(jobs) + 1)
        after = outcomes(results[start + 1:start + 1 + len(jobs)])
        differing = sum(a != b for a, b in zip(after, expected))
        if differing:
            changed.append(f"{name} ({results[start].status.value}): {differing} of {len(jobs)} later programs changed")
    assert not changed, "\n".join(changed)


# -- Prolog: flags, stacks, loading -----------------------------------------------------------------

PROLOG_ALTERERS = {
    "prefer_rationals": "solve(X) :- set_prolog_flag(prefer_rationals, true), X = 1.",
    "float_rounding": "solve(X) :- set_prolog_flag(float_rounding, to_positive), X = 1.",
    "occurs_check": "solve(X) :- set_prolog_flag(occurs_check, error), X = 1.",
    "max_rational_size": "solve(X) :- set_prolog_flag(prefer_rationals, true), set_prolog_flag(max_rational_size, 8),\n"
                         "    set_prolog_flag(max_rational_size_action, error), X = 1.",
    "float_zero_div": ":- set_prolog_flag(float_zero_div, infinity).\n:- set_prolog_flag(float_undefined, nan).\nsolve(1).",
    "double_quotes": ":- set_prolog_flag(double_quotes, atom).\nsolve(X) :- set_prolog_flag(double_quotes, chars), X = 1.",
    "stack": "solve(X) :- set_prolog_stack(global, limit(300000)), set_prolog_stack(local, limit(300000)), X = 1.",
}


def test_prolog_flags_and_stacks_do_not_outlive_their_program() -> None:
    jobs = reference_jobs("prolog")
    assert len(jobs) >= 30
    jobs.append(("solve(X) :- X is 2/3 + 1/3 + 10/4, Y = f(Y), X > 0.", "solve(X)"))  # rationals, cyclic terms
    assert_unchanged_after("prolog", PROLOG_ALTERERS, "solve(X)", jobs)


def _relative_to_swi_library(path: Path) -> str:
    done = subprocess.run(["swipl", "-g", "absolute_file_name(library(lists), F, [file_type(prolog)]), "
                           "file_directory_name(F, D), writeln(D)", "-t", "halt"],
                          capture_output=True, text=True, timeout=30)
    return os.path.relpath(path.with_suffix(""), done.stdout.strip())


def test_prolog_loads_only_named_system_libraries() -> None:
    """library('../../..') must not load a file outside the library, whose directives would run
    unguarded; nor may any other spelling of a load (paths, consult, include, load_files)."""
    if shutil.which("swipl") is None:
        pytest.skip("swipl is not installed here")
    escape = _relative_to_swi_library(Path(__file__).parent / "hostile" / "escape.pl")
    reads = "solve(X) :- catch(nb_getval(lowres_escaped, X), _, X = 42)."
    loads = [f":- use_module(library('{escape}')).", f":- ensure_loaded(library('{escape}')).",
             f":- use_module(library('{escape}'), []).", f":- use_module(library(lists/'../{escape}')).",
             f":- include(library('{escape}')).", f":- consult(library('{escape}')).",
             f":- load_files(library('{escape}'), []).", f":- [library('{escape}')].",
             f":- use_module('{Path(__file__).parent / 'hostile' / 'escape'}')."]
    results = one_worker("prolog", [(f"{load}\n{reads}", "solve(X)") for load in loads] + [(reads, "solve(X)")], LIMITS)
    assert all(r.answer != "666" for r in results), [(load, r) for load, r in zip(loads, results) if r.answer == "666"]
    assert all(r.status is not Status.OK for r in results[:-1]), results
    assert outcomes(results[-1:]) == [(Status.OK, "42")]


def test_prolog_named_libraries_still_load() -> None:
    programs = [":- use_module(library(clpq)).\nsolve(X) :- {X = 6*7}.",
                ":- use_module(library(clpfd)).\nsolve(X) :- X #= 6*7.",
                ":- use_module(library(lists)).\n:- use_module(library(apply)).\nsolve(X) :- sum_list([40, 2], X).",
                ":- use_module(library(aggregate)).\nsolve(X) :- aggregate_all(sum(Y), member(Y, [40, 2]), X).",
                ":- use_module(library(dcg/basics)).\nsolve(X) :- phrase(integer(X), `42`).",
                ":- ensure_loaded(library(lists)).\n:- use_module(library(yall)).\nsolve(X) :- foldl([A,B,C]>>(C is A+B), [40,2], 0, X)."]
    results = one_worker("prolog", [(p, "solve(X)") for p in programs], LIMITS)
    assert outcomes(results) == [(Status.OK, "42")] * len(programs), results


# -- Lisp: packages ---------------------------------------------------------------------------------

LISP_ALTERERS = {
    "next_package": '(defun solve () (make-package (format nil "PROGRAM-~d"'
                    ' (1+ (parse-integer (package-name *package*) :start 8))) :use nil) 1)',
    "many_packages": '(defun solve () (dotimes (i 3000) (make-package (format nil "PROGRAM-~d" i) :use nil)) 1)',
    "rename_harness": '(defun solve () (rename-package "LOWRES-HARNESS" "GONE") 1)',
    "delete_cl": '(defun solve () (delete-package "LOWRES-CL") 1)',
    "unlock_and_delete": '(defun solve () (funcall (intern "UNLOCK-PACKAGE" "SB-EXT") "LOWRES-CL")'
                         ' (delete-package "LOWRES-CL") 1)',
    "redefine_cl": '(defun solve () (funcall (intern "UNLOCK-PACKAGE" "SB-EXT") "COMMON-LISP")'
                   ' (setf (symbol-function (quote *)) (lambda (&rest r) (declare (ignore r)) 666)) 1)',
    "redefine_harness": '(defun solve () (setf (symbol-function (intern "NUMBER-TEXT" "LOWRES-HARNESS"))'
                        ' (lambda (v) (declare (ignore v)) "666")) 1)',
    "nickname_cl": '(defun solve () (funcall (intern "UNLOCK-PACKAGE" "SB-EXT") "COMMON-LISP")'
                   ' (rename-package "COMMON-LISP" "COMMON-LISP" (list "CL" "PROGRAM-X")) 1)',
}


def test_lisp_packages_of_one_program_do_not_reach_the_next() -> None:
    jobs = reference_jobs("lisp")[:8] + [("(defun solve () (* 6 7))", "(solve)")]
    assert_unchanged_after("lisp", LISP_ALTERERS, "(solve)", jobs)


# -- Hy (and Lisp): files, modules, full disks --------------------------------------------------------

SHADOW = ('(import os sys)\n(defn solve []\n'
          '  (for [d (+ ["." "/tmp" "/dev/shm"] sys.path)]\n'
          '    (try (with [f (open (os.path.join (or d ".") "colorsys.py") "w")] (.write f "def rgb_to_yiq(*a): return [666]\\n"))\n'
          '      (except [Exception] None)))\n  1)')
FILL = ('(import os)\n(defn solve []\n  (for [d ["." "/tmp" "/dev/shm"] i (range 20)]\n'  # files of 8 MB at most (RLIMIT_FSIZE)
        '    (try (with [f (open (os.path.join d f"fill-{i}") "wb")] (while True (.write f (bytes 1000000))))\n'
        '      (except [Exception] None)))\n  1)')
LATER = ('(import os colorsys)\n(defn solve []\n  (for [d ["." "/tmp" "/dev/shm"]]\n'
         '    (with [f (open (os.path.join d "small") "w")] (.write f "x")))\n'
         '  (print "hello")\n  (round (get (colorsys.rgb_to_yiq 42 42 42) 0)))')


def test_hy_files_and_modules_of_one_program_do_not_reach_the_next() -> None:
    results = one_worker("hy", [(SHADOW, "(solve)"), (LATER, "(solve)"), (FILL, "(solve)"), (LATER, "(solve)")], LIMITS)
    assert [(r.status, r.answer, r.stdout) for r in results[1::2]] == [(Status.OK, "42", "hello\n")] * 2, results


def test_lisp_full_directory_does_not_reach_the_next_program() -> None:
    fill = ("(defun solve () (dotimes (i 20) (ignore-errors (with-open-file (s (format nil \"fill-~d\" i) :direction"
            " :output :if-exists :supersede :element-type '(unsigned-byte 8)) (loop (write-sequence"
            " (make-array 1000000 :element-type '(unsigned-byte 8)) s))))) 1)")
    later = ('(defun solve () (with-open-file (s "small" :direction :output :if-exists :supersede)'
             ' (write-string "x" s)) (format t "hello~%") 42)')
    results = one_worker("lisp", [(fill, "(solve)"), (later, "(solve)")], LIMITS)
    assert (results[1].status, results[1].answer, results[1].stdout) == (Status.OK, "42", "hello\n"), results
