"""A sandbox worker: the child process that runs model-written programs for one language.

Started by lowres_rl.sandbox.Pool as `python -m lowres_rl.worker` in its own session, a fresh
working directory and a scrubbed environment. It keeps the protocol pipes on private descriptors,
points fds 0/1/2 at /dev/null and two capture files (so a program's prints can never corrupt the
protocol), sets its own resource limits, builds the language's interpreter, then answers one
request per program until its input closes. Anything a program does to this process is contained
here: the parent only ever sees JSON, and kills this whole process group at the deadline.
"""
from __future__ import annotations

import os
import resource
import signal
import sys
import time
import traceback
from typing import Any, BinaryIO

from lowres_rl.languages import Execution, Limits, Status, load_language
from lowres_rl.protocol import read_message, write_message

CAPTURE_LIMIT = 8 << 20  # RLIMIT_FSIZE: printing more than this fails instead of filling the disk
LAZY_THREADS = 1         # threads a runtime may start by itself after start-up (SWI's alarm thread,
                         # SBCL's finalizer): more than that, left after a program, retire the worker


def _take_protocol_fds() -> tuple[BinaryIO, BinaryIO]:
    """Move the protocol pipes off fds 0/1 and point 0/1/2 at /dev/null and capture files."""
    proto_in = os.fdopen(os.dup(0), "rb", buffering=0)
    proto_out = os.fdopen(os.dup(1), "wb", buffering=0)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    for fd, name in ((1, "stdout.txt"), (2, "stderr.txt")):
        capture = os.open(name, os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o600)
        os.dup2(capture, fd)
        os.close(capture)
    return proto_in, proto_out


def _set_limits(limits: Limits) -> None:
    """OS limits that hold whatever the program does; interpreters add finer ones of their own."""
    budget = (limits.memory_mb + 1536) << 20  # interpreter heap plus the runtime's own mappings
    wanted = {
        resource.RLIMIT_AS: budget,
        resource.RLIMIT_FSIZE: CAPTURE_LIMIT,
        resource.RLIMIT_NOFILE: 256,
        resource.RLIMIT_CORE: 0,
    }
    for kind, value in wanted.items():
        _, hard = resource.getrlimit(kind)
        soft = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(kind, (soft, hard))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # oversized writes fail with EFBIG, not a kill


def _read_capture(fd: int, limit: int) -> str:
    """The first `limit` bytes a program wrote to fd 1 or 2, then empty the file for the next."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # a program may have closed or replaced the stream
            pass
    data = os.pread(fd, limit, 0)
    if data or os.fstat(fd).st_size:  # most programs print nothing: then there is nothing to empty
        os.ftruncate(fd, 0)
    return data.decode("utf-8", "replace")


def _execute(interpreter: Any, request: dict[str, Any], limits: Limits) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        execution = interpreter.execute(request["code"], request["query"], limits)
    except BaseException as exc:  # noqa: BLE001 - a program may raise anything, SystemExit too
        execution = Execution(Status.CRASHED, error=f"interpreter failed: {type(exc).__name__}: {exc}")
    execution.stdout = execution.stdout or _read_capture(1, limits.output_bytes)
    execution.stderr = execution.stderr or _read_capture(2, limits.output_bytes)
    execution.seconds = time.perf_counter() - started
    return execution.to_dict()


def _threads(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return 0


def _strays(keep: set[int]) -> list[int]:
    """Live processes in this PID namespace other than `keep` (zombies are harmless: skipped)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in keep:
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z":
            found.append(int(entry))
    return found


class _Leftovers:
    """What a program left running once it returned: threads beyond what the runtimes start by
    themselves (in this process and in the interpreter's helper processes, e.g. SBCL), and, inside
    a PID namespace (LOWRES_RL_PIDNS=1, set by lowres_rl.isolation), any process other than this
    worker, the namespace's init and the helpers. Either would run on into the next programs, so
    the worker then retires: it says so in its reply and exits; the pool kills the sandbox."""

    def __init__(self, interpreter: Any) -> None:
        self._helper_pids = getattr(interpreter, "helper_pids", lambda: [])
        self._pidns = os.environ.get("LOWRES_RL_PIDNS") == "1"
        self._allowed: dict[int, int] = {}

    def before(self) -> None:
        for pid in [os.getpid(), *self._helper_pids()]:
            self._allowed.setdefault(pid, _threads(pid) + LAZY_THREADS)

    def after(self) -> str:
        helpers = list(self._helper_pids())
        for pid in [os.getpid(), *helpers]:
            count = _threads(pid)
            if count > self._allowed.setdefault(pid, count + LAZY_THREADS):
                return f"the program left threads running ({count} in process {pid})"
        if self._pidns:
            strays = _strays({1, os.getpid(), *helpers})
            if strays:
                for pid in strays:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
                return f"the program left {len(strays)} process(es) running"
        return ""


def main() -> None:
    log = os.fdopen(os.dup(2), "w")  # worker.log: why this worker died, for the pool to report
    try:
        _serve()
    except BaseException:
        traceback.print_exc(file=log)
        log.flush()
        raise SystemExit(1)


def _serve() -> None:
    proto_in, proto_out = _take_protocol_fds()
    init = read_message(proto_in)
    if init is None:
        return
    limits = Limits(**init["limits"])
    _set_limits(limits)
    language = load_language(init["language"])
    interpreter = language.interpreter(limits)
    write_message(proto_out, {"ready": True, "pid": os.getpid()})
    leftovers = _Leftovers(interpreter)
    while (request := read_message(proto_in)) is not None:
        request_limits = Limits(**request["limits"])
        leftovers.before()
        reply = _execute(interpreter, request, request_limits)
        retire = leftovers.after()
        if retire:
            reply["retire"] = retire
        write_message(proto_out, reply)
        if retire:
            return  # the pool retires this worker on reading the reply; exiting ends the sandbox


if __name__ == "__main__":
    main()
