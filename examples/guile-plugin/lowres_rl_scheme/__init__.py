"""Scheme through GNU Guile 3.0: an example third-party language plugin for lowres-rl.

    pip install -e examples/guile-plugin        # registers `scheme` (entry point lowres_rl.languages)
    python -m lowres_rl.check scheme            # the conformance kit
    echo '(define (solve) (* 6 7))' | python -m lowres_rl.run --lang scheme
    python -m lowres_rl.train --lang scheme ...

The answer is the value of the query expression (`(total)`); without a query, `(solve)`. Inside a
sandbox worker, `GuileInterpreter` keeps one Guile process running harness.scm, a fork server:
each program runs in its own forked child (a few milliseconds per program, against tens for a
fresh `guile` each time) in a fresh module, so nothing a program defines or mutates reaches the
next one and `(exit)` ends only that child. The child is killed at the time limit; the heap and
stack are capped inside Guile. If the server itself dies or stops answering, it is killed and
restarted for the next program (about 30 ms).

Not protected against here (the OS layer's job, see lowres_rl.sandbox.isolation): processes a program
starts itself (`system`, `primitive-fork`) outlive it until the worker goes, within RLIMIT_CPU.
"""
from __future__ import annotations

import os
import secrets
import select
import shutil
import signal
import subprocess
import time
from pathlib import Path

from lowres_rl.languages import Execution, Interpreter, Language, Limits, Status, canonical_number

HERE = Path(__file__).resolve().parent
MARGIN = 0.25  # seconds the server gets past the program's limit to report the kill itself


class Scheme(Language):
    name = "scheme"
    fence = ("scheme", "scm", "guile")
    default_query = "(solve)"
    extension = ".scm"
    requires = {"guile": "apt-get install guile-3.0"}

    def interpreter(self, limits: Limits) -> Interpreter:
        return GuileInterpreter()

    def prompt_file(self) -> Path:
        return HERE / "prompt.md"


class GuileInterpreter:
    """Talks to one Guile fork server over pipes; restarts it when it dies or overruns."""

    def __init__(self) -> None:
        guile = shutil.which("guile")
        if guile is None:
            raise RuntimeError("guile not found: apt-get install guile-3.0")
        # -q: no ~/.guile; no auto-compilation: nothing written to the (fresh) HOME.
        self._command = [guile, "--no-auto-compile", "-q", "-s", str(HERE / "harness.scm")]
        self._proc: subprocess.Popen | None = None
        self._start()

    def _start(self) -> None:
        # Its own session and process group, so that a kill also takes the program's child with it.
        self._proc = subprocess.Popen(self._command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      bufsize=0, start_new_session=True)
        self._pending = b""

    def _stop(self) -> None:
        if self._proc is not None:
            try:
                os.killpg(self._proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self._proc.wait()
            self._proc = None

    def execute(self, code: str, query: str, limits: Limits) -> Execution:
        if self._proc is None or self._proc.poll() is not None:
            self._stop()
            self._start()
        nonce = secrets.token_hex(8)
        code_bytes, query_bytes = code.encode("utf-8"), query.encode("utf-8")
        header = (f"{nonce} {limits.timeout:.3f} {limits.memory_mb} {limits.output_bytes} "
                  f"{len(code_bytes)} {len(query_bytes)}\n").encode()
        deadline = time.monotonic() + limits.timeout + MARGIN
        try:
            self._proc.stdin.write(header + code_bytes + query_bytes)  # type: ignore[union-attr]
            reply = self._reply(nonce, deadline)
        except (BrokenPipeError, ValueError):
            reply = None
        if reply is None:
            return self._failure(limits, deadline)
        status, kind, answer, output, error = reply
        if status != "ok":
            answer = None
        elif kind == "number":
            answer = _canonical(answer)
        return Execution(Status(status), answer=answer, stdout=output, error=error)

    def _failure(self, limits: Limits, deadline: float) -> Execution:
        """No reply: the server died (crashed) or overran the deadline (timeout); restart it."""
        overran = time.monotonic() >= deadline
        self._stop()
        if overran:
            return Execution(Status.TIMEOUT, error=f"killed after the {limits.timeout:g}s limit")
        return Execution(Status.CRASHED, error="the Guile process died")

    def _reply(self, nonce: str, deadline: float) -> tuple[str, ...] | None:
        """`NONCE STATUS KIND A O E` then A+O+E bytes; None on end of input or at the deadline."""
        while True:
            line = self._read_until(b"\n", deadline)
            if line is None:
                return None
            fields = line.decode("utf-8", "replace").split(" ")
            if len(fields) == 6 and fields[0] == nonce and all(f.isdigit() for f in fields[3:]):
                break  # anything else is noise from Guile itself (warnings)
        sizes = [int(f) for f in fields[3:]]
        body = self._read_exactly(sum(sizes), deadline)
        if body is None:
            return None
        parts, at = [], 0
        for size in sizes:
            parts.append(body[at:at + size].decode("utf-8", "replace"))
            at += size
        return (fields[1], fields[2], *parts)

    def _read_until(self, separator: bytes, deadline: float) -> bytes | None:
        while separator not in self._pending:
            if not self._fill(deadline):
                return None
        line, _, self._pending = self._pending.partition(separator)
        return line

    def _read_exactly(self, size: int, deadline: float) -> bytes | None:
        while len(self._pending) < size:
            if not self._fill(deadline):
                return None
        data, self._pending = self._pending[:size], self._pending[size:]
        return data

    def _fill(self, deadline: float) -> bool:
        fd = self._proc.stdout.fileno()  # type: ignore[union-attr]
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            return False
        chunk = os.read(fd, 1 << 16)
        self._pending += chunk
        return bool(chunk)


def _canonical(text: str) -> str:
    """Guile's text for a real number, in the shared canonical form (`42`, `3.5`, `1e+21`)."""
    try:
        number = int(text) if text.lstrip("-").isdigit() else float(text)
    except ValueError:  # +inf.0, +nan.0: not a finite number; keep Guile's text
        return text
    return canonical_number(number) or text
