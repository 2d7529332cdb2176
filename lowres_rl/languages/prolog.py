"""Prolog: SWI-Prolog through pyswip, inside sandbox workers.

The answer is the first numeric binding of the query's variables (`total(X)` → X); without a query,
`solve(X)`. library(clpq) is available to every program (`{X = A*B}`), since that is how
GSM8K-Prolog solutions are often written. The in-worker side (`PrologInterpreter`) loads
interpreters/prolog/harness.pl once; each program then loads into a fresh temporary module with a
time limit, an inference limit and a stack limit, and `halt` throws instead of ending the worker.
"""
from __future__ import annotations

import json
import os
import re
import shutil

from lowres_rl.languages.base import Execution, Interpreter, Language, Limits, Status
from lowres_rl.resources import resource

_QUERY_PREFIX = re.compile(r"^\s*\?-\s*")
_TEMP_MODULE = re.compile(r"'tmp-\d+-\d+':")  # the per-program module's name, noise to a reader


class Prolog(Language):
    name = "prolog"
    fence = ("prolog", "pl", "swipl")
    default_query = "solve(X)"
    extension = ".pl"
    requires = {"swipl": "install SWI-Prolog (Debian/Ubuntu: apt-get install swi-prolog-nox)"}

    def normalize_query(self, query: str) -> str:
        """`?- total(X).` → `total(X)`: the prompt's query block tolerates both decorations."""
        return _QUERY_PREFIX.sub("", query).strip().removesuffix(".").strip()

    def interpreter(self, limits: Limits) -> Interpreter:
        return PrologInterpreter()


class PrologInterpreter:
    """pyswip in this (worker) process; programs and queries travel through files so that no
    model-written text is ever spliced into a Prolog goal."""

    def __init__(self) -> None:
        if shutil.which("swipl") is None:
            raise RuntimeError("swipl not found: install SWI-Prolog (Debian: apt-get install swi-prolog-nox)")
        from pyswip import Prolog as SWI

        self._swi = SWI()
        harness = resource("interpreters", "prolog", "harness.pl")
        list(self._swi.query(f"consult('{_quote(str(harness))}')"))
        self._code, self._query = os.path.abspath("program.pl"), os.path.abspath("query.txt")

    def execute(self, code: str, query: str, limits: Limits) -> Execution:
        with open(self._code, "w", encoding="utf-8") as f:
            f.write(code)
        with open(self._query, "w", encoding="utf-8") as f:
            f.write(query)
        goal = (f"lowres_run('{_quote(self._code)}', '{_quote(self._query)}', "
                f"{float(limits.timeout)}, {int(limits.inferences)}, Json)")
        [solution] = list(self._swi.query(goal))
        reply = json.loads(_text(solution["Json"]))
        answer = reply["answer"] or None
        return Execution(Status(reply["status"]), answer=answer, error=_TEMP_MODULE.sub("", reply["error"]).strip(),
                         warnings=[w.strip() for w in reply["warnings"]])


def _quote(path: str) -> str:
    return path.replace("\\", "\\\\").replace("'", "\\'")


def _text(value: object) -> str:
    """pyswip returns Prolog strings as bytes or str depending on version."""
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)
