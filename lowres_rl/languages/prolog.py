"""Prolog: SWI-Prolog through pyswip, inside sandbox workers.

The answer is the first numeric binding of the query's variables (`total(X)` → X); without a query,
`solve(X)`. library(clpq) is available to every program (`{X = A*B}`), since that is how
GSM8K-Prolog solutions are often written. The in-worker side (`PrologInterpreter`) loads
interpreters/prolog/harness.pl once; each program then loads into a fresh temporary module with a
time limit, an inference limit and a stack limit, and `halt` throws instead of ending the worker.

Number literals (for the hard-coding check, SWI-Prolog 9): `%` and `/* */` comments; '…', "…", `…`
quotes; `0'c` character codes; `0x48`, `0o110`, `0b1001000`, `36'20` radix, `144r2` rationals,
floats, `1_000` and `1 000` digit groups.
"""
from __future__ import annotations

import json
import re
import shutil
from ctypes import POINTER, byref, c_char_p, c_size_t, c_uint, c_int, string_at

from lowres_rl.languages.base import BaseInterpreter, Comments, Language
from lowres_rl.languages.contract import MAX_ERROR_TYPE, Execution, Interpreter, Limits, Status
from lowres_rl.languages.numerals import Literal, Number, NumberSyntax, decimal, integer, ratio
from lowres_rl.languages.recipe import Recipe, camel, infix, variables
from lowres_rl.languages.resources import resource

_QUERY_PREFIX = re.compile(r"^\s*\?-\s*")
_TEMP_MODULE = re.compile(r"'tmp-\d+-\d+':")  # the per-program module's name, noise to a reader
_INDICATOR = re.compile(r"(?:(?:'[^']*'|\w+):)*(?:'[^']*'|\w+)//?\d+")  # [module:]name/arity
_ESCAPES = {"n": 10, "t": 9, "r": 13, "\\": 92, "'": 39, '"': 34, "`": 96, "s": 32, "e": 27, "0": 0}

# Number literals, for the hard-coding check (see lowres_rl.languages.numerals).
_LITERALS = re.compile(r"""
    (?>(?: %[^\n]* | /\*[\s\S]*?(?:\*/|\Z)
         | '(?:[^'\\]|''|\\[\s\S])*'? | "(?:[^"\\]|""|\\[\s\S])*"? | `(?:[^`\\]|``|\\[\s\S])*`?
         | [^\W\d]\w* | [^0-9] )*)
    (?: (?P<char> 0'(?:\\[\s\S]|''|[\s\S]) )
      | (?P<based> 0[xX][0-9a-fA-F_]+ | 0[oO][0-7_]+ | 0[bB][01_]+ | (?P<radix>\d{1,2})'[0-9a-zA-Z_]+ )
      | (?P<ratio> \d+r\d+ )
      | (?P<float> \d+\.\d+(?:[eE][-+]?\d+)?(?:Inf|NaN)? | \d+[eE][-+]?\d+ )
      | (?P<int> \d+(?:(?:_\s*|[ ])\d+)* ) )?
""", re.VERBOSE)


def _literal(m: re.Match) -> Literal | None:
    kind = m.lastgroup
    if kind is None:
        return None
    text = m.group(kind if kind != "radix" else "based")
    value: Number | None = None
    if kind == "int":
        value = integer(text)
    elif kind == "char":
        body = text[2:]
        if body.startswith("\\"):
            value = _ESCAPES.get(body[1])
        else:
            value = ord(body[0])
    elif kind == "based" or kind == "radix":
        if m.group("radix"):
            base = int(m.group("radix"))
            value = integer(text.split("'", 1)[1], base) if 2 <= base <= 36 else None
        else:
            value = integer(text[2:], {"x": 16, "o": 8, "b": 2}[text[1].lower()])
    elif kind == "ratio":
        value = ratio(*text.split("r"))
    elif kind == "float":
        value = None if text.endswith(("Inf", "NaN")) else decimal(text)
    return None if value is None else Literal(m.end() - len(text), m.end(), value, kind == "float")


class Prolog(Language):
    name = "prolog"
    fence = ("prolog", "pl", "swipl")
    default_query = "solve(X)"
    extension = ".pl"
    requires = {"swipl": "install SWI-Prolog (Debian/Ubuntu: apt-get install swi-prolog-nox)"}
    comments = Comments(line=("%",), block=(("/*", "*/"),), quotes="\"'`")
    number_syntax = NumberSyntax(_LITERALS, _literal, ratio="{}r{}")

    def normalize_query(self, query: str) -> str:
        """`?- total(X).` → `total(X)`: the prompt's query block tolerates both decorations."""
        return _QUERY_PREFIX.sub("", query).strip().removesuffix(".").strip()

    def interpreter(self, limits: Limits) -> Interpreter:
        return PrologInterpreter()

    def warning_kind(self, warning: str) -> str:
        """Predicates named by indicator are one kind: `Clauses of m:a/1 are not together in the
        source-file` → `clauses of p/n are not together in the source-file`."""
        return super().warning_kind(_INDICATOR.sub("p/n", warning.strip().split("\n", 1)[0]))

    def synthetic(self, recipe: Recipe) -> str:
        return program(recipe)


class PrologInterpreter(BaseInterpreter):
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
                         error_type=reply["error_type"][:MAX_ERROR_TYPE], warnings=[w.strip() for w in reply["warnings"]])

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


def program(recipe: Recipe) -> str:
    """A reference program for a synthetic problem: solve/1, inline, as facts and a rule, or with
    helper predicates."""
    head: list[str] = []
    if recipe.style == "facts":
        head = [f"{n}({v})." for n, v in recipe.given]
        goals = [f"{n}({camel(n)})" for n, _ in recipe.given]
    else:
        goals = [f"{camel(n)} = {v}" for n, v in recipe.given]
    for i, (n, e) in enumerate(recipe.steps, start=1):
        out = "X" if i == len(recipe.steps) else camel(n)
        if recipe.style == "helper":
            args = [camel(v) for v in variables(e)]
            head.append(f"compute_{n}({', '.join(args + ['R'])}) :- R is {infix(e, camel)}.")
            goals.append(f"compute_{n}({', '.join(args + [out])})")
        else:
            goals.append(f"{out} is {infix(e, camel)}")
    return "\n".join(head + ["solve(X) :-\n    " + ",\n    ".join(goals) + "."]) + "\n"
