"""Hy: Python's Lisp, compiled and evaluated inside sandbox workers, one forked child per program.

The answer is the value of the query expression (`(total)`); without a query, `(solve)`. The worker
imports Hy once; each program then runs in a child forked from it (a few milliseconds), in a fresh
module namespace. Whatever a program does to its Python process — redefine builtins, patch the
worker's own functions, swallow every exception around an endless loop — dies with the child: the
worker kills it at the limit and stays clean for the next program. `SystemExit` and every other
BaseException are contained in the child.
"""
from __future__ import annotations

import json
import os
import select
import signal
import sys
import time
import types

from lowres_rl.languages.base import Execution, Interpreter, Language, Limits, Status, canonical_number


class Hy(Language):
    name = "hy"
    fence = ("hy", "hylang")
    default_query = "(solve)"
    extension = ".hy"

    def interpreter(self, limits: Limits) -> Interpreter:
        return HyInterpreter()


class HyInterpreter:
    """Forks a child per program (the worker is single-threaded, so forking is safe) and reads its
    Execution back over a pipe, killing it at the deadline."""

    def __init__(self) -> None:
        import hy  # noqa: F401  (imports the reader and compiler once per worker)
        from hy.errors import HyLanguageError
        from hy.reader.exceptions import LexException

        self._hy = hy
        self._syntax_errors = (LexException, HyLanguageError, SyntaxError)

    def execute(self, code: str, query: str, limits: Limits) -> Execution:
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            self._child(code, query, write_fd)
        os.close(write_fd)
        try:
            return self._collect(pid, read_fd, time.monotonic() + limits.timeout, limits)
        finally:
            os.close(read_fd)

    def _child(self, code: str, query: str, write_fd: int) -> None:
        """Run the program, send its Execution as JSON, and exit without returning."""
        try:
            reply = self._evaluate(code, query, types.ModuleType("program")).to_dict()
        except BaseException as exc:  # noqa: BLE001 - whatever escapes is the program's error
            reply = Execution(Status.RUNTIME_ERROR, error=_describe(exc)).to_dict()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001 - a program may have closed or replaced it
                pass
        data = json.dumps(reply).encode()
        while data:
            data = data[os.write(write_fd, data):]
        os._exit(0)

    def _collect(self, pid: int, fd: int, deadline: float, limits: Limits) -> Execution:
        chunks = []
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return Execution(Status.TIMEOUT, error=f"killed after the {limits.timeout:g}s limit")
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
        _, wait_status = os.waitpid(pid, 0)
        try:
            return Execution.from_dict(json.loads(b"".join(chunks)))
        except (ValueError, KeyError, TypeError):
            how = f"signal {os.WTERMSIG(wait_status)}" if os.WIFSIGNALED(wait_status) else \
                f"exit code {os.WEXITSTATUS(wait_status)}"
            return Execution(Status.CRASHED, error=f"the program's process died ({how}) before answering")

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
