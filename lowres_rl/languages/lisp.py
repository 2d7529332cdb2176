"""Common Lisp: a persistent SBCL process per sandbox worker.

The answer is the value of the query expression (`(total)`); without a query, `(solve)`. The
in-worker side (`LispInterpreter`) keeps one SBCL running interpreters/lisp/harness.lisp and sends it
one program at a time: each loads into a fresh package (named after the request's random nonce) with
*read-eval* off, is evaluated by SBCL's
interpreter (compiling would cost more than running) under a step budget (`Limits.steps`: loop
iterations and calls) and sb-ext:with-timeout, and the package is deleted afterwards. SBCL runs with a bounded heap
(--dynamic-space-size) and control stack, no init files and no debugger; if a program wedges or
kills it, or changes packages or functions the next program depends on (the harness checks after
each), it is killed and restarted for the next program (about 35 ms). SBCL never holds the
worker's protocol pipes: they are close-on-exec, and Popen closes every other descriptor.

Persistent SBCL against a process per program (`sbcl --script`): see benchmarks/lisp_process_model.py.
"""
from __future__ import annotations

import os
import secrets
import select
import shutil
import signal
import subprocess
import time

from lowres_rl.languages.base import Language
from lowres_rl.languages.contract import Execution, Interpreter, Limits, Status
from lowres_rl.languages.resources import resource

SOFT_MARGIN = 0.25  # seconds SBCL gets past its own timeout before it is killed
WARNING_SEPARATOR = "\x1f"  # the harness joins warnings (which may span lines) with this


class Lisp(Language):
    name = "lisp"
    fence = ("lisp", "common-lisp", "commonlisp", "cl", "sbcl")
    default_query = "(solve)"
    extension = ".lisp"
    requires = {"sbcl": "install SBCL (Debian/Ubuntu: apt-get install sbcl)"}

    def interpreter(self, limits: Limits) -> Interpreter:
        return LispInterpreter(limits)


def sbcl_command(memory_mb: int) -> list[str]:
    """The SBCL command line for a harness process with a `memory_mb` heap."""
    sbcl = shutil.which("sbcl")
    if sbcl is None:
        raise RuntimeError("sbcl not found: install SBCL (Debian: apt-get install sbcl)")
    return [sbcl, "--dynamic-space-size", f"{memory_mb}MB", "--control-stack-size", "8MB",
            "--noinform", "--disable-ldb", "--end-runtime-options",
            "--no-sysinit", "--no-userinit", "--disable-debugger",
            "--load", str(resource("interpreters", "lisp", "harness.lisp"))]


class LispInterpreter:
    """Talks to one SBCL harness process over pipes; restarts it when it dies or overruns."""

    def __init__(self, limits: Limits) -> None:
        self._command = sbcl_command(limits.memory_mb)
        self._proc: subprocess.Popen | None = None
        self._start()

    def _start(self) -> None:
        self._proc = subprocess.Popen(self._command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      bufsize=0)
        self._pending = b""
        self._eof = False  # SBCL closed its output: it died, as opposed to overrunning a deadline

    def helper_pids(self) -> list[int]:
        """The SBCL process: the worker's own helper, not a program's leftover."""
        return [self._proc.pid] if self._proc is not None and self._proc.poll() is None else []

    def _stop(self) -> None:
        if self._proc is not None:
            self._proc.send_signal(signal.SIGKILL)
            self._proc.wait()
            self._proc = None

    def execute(self, code: str, query: str, limits: Limits) -> Execution:
        if self._proc is None or self._proc.poll() is not None:
            self._start()
        nonce = secrets.token_hex(8)
        header = f'("{nonce}" {limits.timeout:.3f} {limits.steps} {limits.output_bytes} {len(code)} {len(query)})\n'
        try:
            self._proc.stdin.write((header + code + query).encode("utf-8"))  # type: ignore[union-attr]
            reply = self._reply(nonce, time.monotonic() + limits.timeout + SOFT_MARGIN)
        except BrokenPipeError:
            reply = None
        if reply is None:
            return self._failure(limits)
        status, answer, output, error, warnings = reply
        status, _, altered = status.partition(" ")
        if status == Status.MEMORY or altered:
            self._stop()  # a heap SBCL survived once is fragile, and one whose packages or functions
            # a program changed (the harness said "!") is not the one the next program should meet
        return Execution(Status(status), answer=answer if status == "ok" else None, stdout=output,
                         error=error, warnings=[w for w in warnings.split(WARNING_SEPARATOR) if w])

    def _failure(self, limits: Limits) -> Execution:
        """SBCL overran its deadline (kill it: timeout) or closed its output (it died: crashed)."""
        died = self._eof
        self._stop()
        if died:
            return Execution(Status.CRASHED, error="SBCL exited (an exit call, or heap or stack "
                                                   "exhausted beyond recovery)")
        return Execution(Status.TIMEOUT, error=f"killed after the {limits.timeout:g}s limit")

    def _reply(self, nonce: str, deadline: float) -> tuple[str, ...] | None:
        """Read lines until `NONCE STATUS` and the four lines after it; None on EOF or deadline."""
        lines: list[str] = []
        status = None
        while len(lines) < 4:
            line = self._readline(deadline)
            if line is None:
                return None
            if status is None:
                head, _, rest = line.partition(" ")
                status = rest if head == nonce else None  # anything else is noise from SBCL itself
            else:
                lines.append(_unescape(line))
        return (status, *lines)  # type: ignore[return-value]

    def _readline(self, deadline: float) -> str | None:
        fd = self._proc.stdout.fileno()  # type: ignore[union-attr]
        while b"\n" not in self._pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                return None
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                self._eof = True
                return None
            self._pending += chunk
        line, _, self._pending = self._pending.partition(b"\n")
        return line.decode("utf-8", "replace")


def _unescape(text: str) -> str:
    out, chars = [], iter(text)
    for c in chars:
        if c == "\\":
            nxt = next(chars, "")
            out.append({"n": "\n", "r": "\r", "\\": "\\"}.get(nxt, nxt))
        else:
            out.append(c)
    return "".join(out)
