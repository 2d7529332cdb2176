"""A language driven through one long-lived interpreter process over pipes, inside a sandbox worker.

    class GuileInterpreter(PipeInterpreter):
        died = "the Guile process died"
        def request(self, nonce, code, query, limits):
            return frame(nonce, (f"{limits.timeout:.3f}", limits.output_bytes), (code, query))
        def reply(self, nonce, limits, deadline):
            fields = self.read_fields(nonce, 3, deadline)         # None: no reply in time
            return fields and Execution(Status(fields[0]), answer=fields[1], stdout=fields[2])

    GuileInterpreter(["guile", "-s", "harness.scm"])

`PipeInterpreter` owns the process: it starts it in its own session (so a kill takes whatever the
process or a program forked), makes it die with its worker (PR_SET_PDEATHSIG), and restarts it
for the next program whenever it is gone. Each request carries a fresh random nonce, and only a
reply line that starts with it is believed: anything else on the interpreter's output (its own
warnings) is skipped. Replies are read with a deadline (the limit plus `margin`, so the process
reports its own timeouts first); no reply means end of output (the process died: `crashed`) or
the deadline passed (`timeout`), and either way the process is killed and restarted. What is
buffered of a reply is capped as the pool caps a worker's frames (REPLY_CAP + 8 x output_bytes):
output past it, or a frame that claims more, is a broken process (`crashed` at once), so neither
a wedged interpreter nor a program writing to its pipe can make the worker hold more. The process
never holds the worker's protocol pipes: they are close-on-exec, and Popen closes every other fd.

`frame` and `read_fields` are one framing a harness may use, length-prefixed so that no text needs
escaping: `NONCE N1 N2 ...` on a line, then the fields' UTF-8 bytes back to back.
"""
from __future__ import annotations

import ctypes
import os
import secrets
import select
import shutil
import signal
import subprocess
import time
from typing import ClassVar, Sequence

from lowres_rl.languages.base import BaseInterpreter
from lowres_rl.languages.contract import Execution, Limits, Status, canonical_number

PR_SET_PDEATHSIG = 1
REPLY_CAP = 1 << 20  # bytes a reply may hold beyond 8 x Limits.output_bytes (the pool's frame cap)


def find_program(name: str, hint: str) -> str:
    """The path of program `name` on PATH; RuntimeError with `hint` (how to install it) if absent."""
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"{name} not found: {hint}")
    return path


def frame(nonce: str, numbers: Sequence[object], bodies: Sequence[str]) -> bytes:
    """`NONCE NUMBERS... BYTES-OF-EACH-BODY...` on a line, then the bodies (UTF-8)."""
    data = [body.encode("utf-8") for body in bodies]
    header = " ".join([nonce, *map(str, numbers), *(str(len(d)) for d in data)])
    return b"".join([header.encode() + b"\n", *data])


def number_text(text: str) -> str:
    """An interpreter's text for a real number in the canonical form (`42`, `3.5`, `1e+21`);
    other text (`+inf.0`, a symbol) as it is."""
    try:
        number = int(text) if text.lstrip("-").isdigit() else float(text)
    except ValueError:
        return text
    return canonical_number(number) or text


def _die_with_worker() -> None:
    """In the child before exec: SIGKILL when the worker (its parent thread) ends."""
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


class PipeInterpreter(BaseInterpreter):
    """One interpreter process, a request per program; subclasses say `request` and `reply`."""

    margin: ClassVar[float] = 0.25  # seconds past the limit the process gets to report a timeout
    died: ClassVar[str] = "the interpreter process died"  # the error when its output ends

    def __init__(self, command: Sequence[str]) -> None:
        self._command = list(command)
        self._proc: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        self._proc = subprocess.Popen(self._command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0,
                                      start_new_session=True, preexec_fn=_die_with_worker)
        self._pending = b""
        self._eof = False  # its output ended: it died, as opposed to overrunning a deadline
        self._broken = ""  # why its output cannot be a reply (too much of it), if it cannot
        self._cap = REPLY_CAP

    def stop(self) -> None:
        """Kill the process and everything in its process group; the next program restarts it."""
        if self._proc is not None:
            try:
                os.killpg(self._proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self._proc.wait()
            self._proc = None

    def helper_pids(self) -> list[int]:
        """The interpreter process: the worker's own helper, not a program's leftover."""
        return [self._proc.pid] if self._proc is not None and self._proc.poll() is None else []

    def request(self, nonce: str, code: str, query: str, limits: Limits) -> bytes:
        """The bytes that ask the process to run one program."""
        raise NotImplementedError(f"{type(self).__name__} must implement request()")

    def reply(self, nonce: str, limits: Limits, deadline: float) -> Execution | None:
        """Read the reply to request `nonce` (read_line, read_exactly, read_fields); None when
        a read gave None (end of output or the deadline)."""
        raise NotImplementedError(f"{type(self).__name__} must implement reply()")

    def execute(self, code: str, query: str, limits: Limits) -> Execution:
        if self._proc is None or self._proc.poll() is not None:
            self.stop()
            self.start()
        nonce = secrets.token_hex(8)
        self._cap, self._broken = REPLY_CAP + 8 * limits.output_bytes, ""
        try:
            self._proc.stdin.write(self.request(nonce, code, query, limits))  # type: ignore[union-attr]
            execution = self.reply(nonce, limits, time.monotonic() + limits.timeout + self.margin)
        except (BrokenPipeError, ValueError):  # it died before reading the request
            self._eof, execution = True, None
        return execution if execution is not None else self._failure(limits)

    def _failure(self, limits: Limits) -> Execution:
        """No reply: the process died (crashed) or overran its deadline (timeout); kill it."""
        died, broken = self._eof, self._broken
        self.stop()
        if broken:
            return Execution(Status.CRASHED, error=f"the interpreter broke its protocol ({broken}); it was restarted")
        if died:
            return Execution(Status.CRASHED, error=self.died)
        return Execution(Status.TIMEOUT, error=f"killed after the {limits.timeout:g}s limit")

    # -- reading, within a deadline -------------------------------------------------------------

    def read_line(self, deadline: float) -> str | None:
        """The next line (without its newline), or None at end of output or the deadline."""
        while b"\n" not in self._pending:
            if not self._fill(deadline):
                return None
        line, _, self._pending = self._pending.partition(b"\n")
        return line.decode("utf-8", "replace")

    def read_exactly(self, size: int, deadline: float) -> bytes | None:
        while len(self._pending) < size:
            if not self._fill(deadline):
                return None
        data, self._pending = self._pending[:size], self._pending[size:]
        return data

    def read_fields(self, nonce: str, count: int, deadline: float) -> list[str] | None:
        """The `count` fields of a `frame`d reply to `nonce`; lines before it are skipped."""
        while True:
            line = self.read_line(deadline)
            if line is None:
                return None
            head, *sizes = line.split(" ")
            if head == nonce and len(sizes) == count and all(s.isdigit() for s in sizes):
                break
        if sum(map(int, sizes)) > self._cap:
            self._broken = f"a reply of {sum(map(int, sizes))} bytes, over the {self._cap}-byte cap"
            return None
        body = self.read_exactly(sum(map(int, sizes)), deadline)
        if body is None:
            return None
        fields, at = [], 0
        for size in map(int, sizes):
            fields.append(body[at:at + size].decode("utf-8", "replace"))
            at += size
        return fields

    def _fill(self, deadline: float) -> bool:
        fd = self._proc.stdout.fileno()  # type: ignore[union-attr]
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            return False
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            self._eof = True
            return False
        self._pending += chunk
        if len(self._pending) > self._cap:
            self._broken = f"more than {self._cap} bytes without a complete reply"
            return False
        return True
