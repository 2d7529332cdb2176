"""The Prolog guard (interpreters/prolog/guard.pl) on its own: the reference solutions and ordinary
features pass, the hostile programs of tests/hostile_programs.py and a few more are refused."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

import lowres_rl.sandbox.isolation as isolation
from hostile_programs import render
from lowres_rl.languages import get_language

LEVEL = isolation.level()
pytestmark = pytest.mark.skipif(
    not LEVEL.startswith(("bwrap", "namespaces")) and os.environ.get("LOWRES_RL_REQUIRE_ISOLATION") != "1",
    reason=f"no OS isolation here (level {LEVEL}): hostile programs would hit this machine")


GUARD_REFUSES = ("fork_bomb", "shell_fork_bomb", "write_home", "write_tmp", "tell_tmp", "read_secret",
                 "read_proc_environ", "network", "kill_parent", "ignore_signals", "exit", "threads", "shell",
                 "process_create", "daemon", "remount", "directive", "message_format", "hook_other_module")
GUARD_EXTRA_REFUSED = {
    "univ_call": "solve(X) :- G =.. [shell, 'true'], call(G), X = 1.",
    "format_W": "solve(X) :- format(\"~W\", [a, [portray_goal(shell)]]), X = 1.",
    "print_message": "solve(X) :- X = 1, print_message(error, format(\"~@\", [shell(true)])).",
    "initialization": ":- initialization(main).\nmain :- shell('true').\nsolve(1).",
    "term_expansion": "term_expansion(a, (:- shell('true'))).\na.\nsolve(1).",
    "assert_rule": "solve(X) :- assertz((g :- shell(true))), g, X = 1.",
    "consult": "solve(X) :- consult('/etc/passwd'), X = 1.",
    "setenv": "solve(X) :- setenv('A', b), X = 1.",
}
GUARD_ALLOWS = {
    "arithmetic": "solve(X) :- Y is max(3, 4) + sqrt(16) + 7 mod 2, X is Y * 2.",
    "clpq": ":- use_module(library(clpq)).\nsolve(X) :- {X = 3*4 + Y, Y = 2}.",
    "clpq_inf": "solve(X) :- {X >= 2, X =< 5}, inf(X, X).",
    "clpfd": ":- use_module(library(clpfd)).\nsolve(X) :- X #= 6*7.",
    "findall_between": "solve(X) :- findall(Y, between(1, 10, Y), L), sum_list(L, X).",
    "aggregate": "solve(X) :- aggregate_all(sum(Y), member(Y, [1, 2, 3]), X).",
    "maplist_foldl": "d(A, B) :- B is A*2.\nsolve(X) :- maplist(d, [1, 2], L), foldl([A, B0, B]>>(B is A+B0), L, 0, X).",
    "output": "solve(X) :- format(\"~w ~a~n\", [a, b]), write(x), nl, print(y), tab(2), writeln(z),\n"
              "    format(user_error, \"~d~n\", [3]), format(atom(A), '~2f', [3.14159]), atom_number(A, X).",
    "dynamic_facts": ":- dynamic seen/1.\nsolve(X) :- assertz(seen(1)), retract(seen(X)).",
    "catch": "solve(X) :- catch(X is foo + 1, error(type_error(_, _), _), X = 0).",
    "dcg": "s --> [a], s.\ns --> [].\nsolve(X) :- phrase(s, [a, a]), X = 2.",
    "initialization_ok": ":- initialization(main).\nmain :- format(\"hi~n\").\nsolve(1).",
    "strings": "solve(X) :- string_concat(\"ab\", \"cd\", S), string_length(S, X), atom_string(_, S).",
}


def test_prolog_guard_allows_reference_programs_and_refuses_hostile_ones(tmp_path: Path) -> None:
    """guard.pl on its own (tests/hostile/guard_check.pl loads programs as harness.pl does): the
    reference solutions and ordinary features pass, the hostile programs are refused."""
    import re
    import shutil
    import subprocess

    from lowres_rl.languages.resources import resource

    if shutil.which("swipl") is None:
        pytest.skip("swipl is not installed here")
    guard = resource("interpreters", "prolog", "guard.pl")
    prolog = get_language("prolog")
    comment = re.compile(r"^\s*%+\s*query:\s*(?P<query>.+?)\s*$")
    cases: list[tuple[str, str, str, bool]] = []  # name, code, query, expected safe
    for path in sorted((Path(__file__).parent / "reference" / "prolog").glob("*.pl")):
        code = path.read_text(encoding="utf-8")
        match = comment.match(code.splitlines()[0] if code else "")
        query = prolog.normalize_query(match["query"]) if match else prolog.default_query
        cases.append((f"reference/{path.name}", code, query, True))
    assert len(cases) >= 30
    cases += [(f"allows/{k}", code, "solve(X)", True) for k, code in GUARD_ALLOWS.items()]
    cases += [(f"hostile/{k}", render("prolog", k, 9), "solve(X)", False) for k in GUARD_REFUSES]
    cases += [(f"refuses/{k}", code, "solve(X)", False) for k, code in GUARD_EXTRA_REFUSED.items()]
    args = []
    for i, (_, code, query, _) in enumerate(cases):
        file = tmp_path / f"{i}.pl"
        file.write_text(code, encoding="utf-8")
        args += [str(file), query]
    done = subprocess.run(["swipl", str(Path(__file__).parent / "hostile" / "guard_check.pl"), "--", str(guard), *args],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    lines = [line[3:] for line in done.stderr.splitlines() if line.startswith("@@ ")]
    assert len(lines) == len(cases), done.stdout + done.stderr
    wrong = [(name, line) for (name, _, _, safe), line in zip(cases, lines) if (line == "safe") != safe]
    assert not wrong, "\n".join(f"{name}: {line}" for name, line in wrong)
