"""Prolog: SWI-Prolog through pyswip, inside sandbox workers.

The answer is the first numeric binding of the query's variables (`total(X)` → X); without a query,
`solve(X)`. library(clpq) is available to every program (`{X = A*B}`), since that is how
GSM8K-Prolog solutions are often written. The in-worker side (`PrologInterpreter`) loads
interpreters/prolog/harness.pl once; each program then loads into a fresh temporary module with a
time limit, an inference limit and a stack limit, and `halt` throws instead of ending the worker.
"""
from __future__ import annotations

import json
import re
import shutil
from ctypes import POINTER, byref, c_char_p, c_size_t, c_uint, c_int, string_at

from lowres_rl.languages.base import Language
from lowres_rl.languages.contract import Execution, Interpreter, Limits, Status
from lowres_rl.languages.resources import resource

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
    """pyswip in this (worker) process. The code and the query reach the harness as Prolog strings
    built through SWI-Prolog's C interface: no model-written text is ever spliced into a goal, and
    no file is written (writing two files per program cost more than running it)."""

    def __init__(self) -> None:
        if shutil.which("swipl") is None:
            raise RuntimeError("swipl not found: install SWI-Prolog (Debian: apt-get install swi-prolog-nox)")
        from pyswip import Prolog as SWI
        from pyswip import core

        self._swi = SWI()
        harness = resource("interpreters", "prolog", "harness.pl")
        list(self._swi.query(f"consult('{_quote(str(harness))}')"))
        self._core = core
        self._run = core.PL_predicate(b"lowres_run", 5, b"lowres_harness")
        self._get_text = core._lib.PL_get_nchars
        self._get_text.argtypes = [core.term_t, POINTER(c_size_t), POINTER(c_char_p), c_uint]
        self._get_text.restype = c_int

    def execute(self, code: str, query: str, limits: Limits) -> Execution:
        reply = json.loads(self._call(code, query, round(1000 * limits.timeout), limits.inferences))
        answer = reply["answer"] or None
        return Execution(Status(reply["status"]), answer=answer, error=_TEMP_MODULE.sub("", reply["error"]).strip(),
                         warnings=[w.strip() for w in reply["warnings"]])

    def _call(self, code: str, query: str, milliseconds: int, inferences: int) -> str:
        """lowres_run(Code, Query, Milliseconds, Inferences, Json) through the C interface."""
        pl = self._core
        frame = pl.PL_open_foreign_frame()
        try:
            args = pl.PL_new_term_refs(5)
            for offset, text in ((0, code), (1, query)):
                data = text.encode("utf-8", "surrogatepass")
                pl.PL_put_chars(args + offset, pl.PL_STRING | pl.REP_UTF8, len(data), data)
            pl.PL_put_integer(args + 2, milliseconds)
            pl.PL_put_integer(args + 3, inferences)
            if not pl.PL_call_predicate(None, pl.PL_Q_NODEBUG | pl.PL_Q_CATCH_EXCEPTION, self._run, args):
                raise RuntimeError("the Prolog harness failed")  # it never should: it catches everything
            size, text = c_size_t(), c_char_p()
            if not self._get_text(args + 4, byref(size), byref(text), pl.CVT_STRING | pl.REP_UTF8 | pl.BUF_DISCARDABLE):
                raise RuntimeError("the Prolog harness answered with something other than a string")
            return string_at(text, size.value).decode("utf-8", "replace")
        finally:
            pl.PL_discard_foreign_frame(frame)


def _quote(path: str) -> str:
    return path.replace("\\", "\\\\").replace("'", "\\'")


