"""Hy: Python's Lisp, compiled and evaluated inside sandbox workers.

The answer is the value of the query expression (`(total)`); without a query, `(solve)`. Each
program runs in a fresh module namespace, so definitions never leak into the next program. A soft
timer (SIGALRM) raises inside the program at the limit; a program that swallows it is killed by the
pool. `SystemExit`, `KeyboardInterrupt` and every other BaseException are contained here.
"""
from __future__ import annotations

import builtins
import signal
import types

from lowres_rl.languages.base import Execution, Interpreter, Language, Limits, Status, canonical_number


class Hy(Language):
    name = "hy"
    fence = ("hy", "hylang")
    default_query = "(solve)"
    extension = ".hy"

    def interpreter(self, limits: Limits) -> Interpreter:
        return HyInterpreter()


class ProgramTimeout(BaseException):
    """Raised in a program by the soft timer (a BaseException: `except Exception` won't catch it)."""


def _alarm(signum: int, frame: object) -> None:
    raise ProgramTimeout()


class HyInterpreter:
    """Evaluates programs in fresh module namespaces; restores `builtins` after each, since a
    program can reach it (`(setv builtins.helper ...)`) and the next program would see it."""

    def __init__(self) -> None:
        import hy  # noqa: F401  (imports the reader and compiler once per worker)
        from hy.errors import HyLanguageError
        from hy.reader.exceptions import LexException

        self._hy = hy
        self._syntax_errors = (LexException, HyLanguageError, SyntaxError)
        signal.signal(signal.SIGALRM, _alarm)
        self._builtins = dict(builtins.__dict__)

    def execute(self, code: str, query: str, limits: Limits) -> Execution:
        module = types.ModuleType("program")
        signal.setitimer(signal.ITIMER_REAL, limits.timeout)
        try:
            return self._evaluate(code, query, module)
        except ProgramTimeout:
            return Execution(Status.TIMEOUT, error="time limit exceeded")
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            if builtins.__dict__ != self._builtins:
                builtins.__dict__.clear()
                builtins.__dict__.update(self._builtins)

    def _evaluate(self, code: str, query: str, module: types.ModuleType) -> Execution:
        hy = self._hy
        try:
            forms = list(hy.read_many(code, filename="program.hy"))
            query_forms = list(hy.read_many(query, filename="query.hy"))
        except self._syntax_errors as exc:
            return Execution(Status.SYNTAX_ERROR, error=_describe(exc))
        if len(query_forms) != 1:
            return Execution(Status.SYNTAX_ERROR, error="the query must be exactly one expression")
        try:
            for form in forms:
                hy.eval(form, module=module)
            value = hy.eval(query_forms[0], module=module)
        except self._syntax_errors as exc:
            return Execution(Status.SYNTAX_ERROR, error=_describe(exc))
        except (MemoryError, RecursionError) as exc:
            return Execution(Status.MEMORY, error=_describe(exc))
        except ProgramTimeout:
            raise
        except BaseException as exc:  # noqa: BLE001 - SystemExit, KeyboardInterrupt: all contained
            return Execution(Status.RUNTIME_ERROR, error=_describe(exc))
        number = canonical_number(value)
        return Execution(Status.OK, answer=number if number is not None else _short_repr(value))


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


def _short_repr(value: object) -> str:
    try:
        return repr(value)[:200]
    except Exception:  # a program's object may have a hostile __repr__
        return f"<{type(value).__name__}>"
