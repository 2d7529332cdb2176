"""A sandbox worker: the child process that runs model-written programs for one language.

Started by lowres_rl.sandbox.pool.Pool as `python -m lowres_rl.sandbox.worker` in its own session, a fresh
working directory and a scrubbed environment. It keeps the protocol pipes on private descriptors,
points fds 0/1/2 at /dev/null and two capture files (so a program's prints can never corrupt the
protocol), sets its own resource limits, builds the language's interpreter, then answers one
request per program until its input closes. Anything a program does to this process is contained
here: the parent only ever sees JSON, and kills this whole process group at the deadline.

The protocol pipes are out of a program's reach: they are close-on-exec (SBCL and anything a
program execs never hold them), a forked Hy child closes every descriptor but its own before the
program runs (lowres_rl.languages.hy), and this process is not dumpable, so no other process of
the same uid may open /proc/<worker>/fd/N or /proc/<worker>/mem, or ptrace it (as root with
CAP_SYS_PTRACE it still could: lowres_rl.sandbox.isolation drops privilege). Each reply carries back its
request's id, which the program never sees. After each program (lowres_rl.sandbox.workspace) the worker
checks for leftover processes and threads and empties what the program could write: any finding
it cannot undo retires the worker.
"""
from __future__ import annotations

import ctypes
import os
import resource
import signal
import sys
import time
import traceback
from typing import Any, BinaryIO

from lowres_rl.languages import Execution, Limits, Status, load_language
from lowres_rl.languages.contract import MAX_ANSWER
from lowres_rl.sandbox.protocol import read_message, write_message
from lowres_rl.sandbox.workspace import Leftovers, Workspace

CAPTURE_LIMIT = 8 << 20  # RLIMIT_FSIZE: printing more than this fails instead of filling the disk


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
    if execution.answer is not None and len(execution.answer) > MAX_ANSWER:  # the pool would refuse it
        execution = Execution(Status.RUNTIME_ERROR, error=f"the answer has more than {MAX_ANSWER} characters")
    execution.stdout = execution.stdout or _read_capture(1, limits.output_bytes)
    execution.stderr = execution.stderr or _read_capture(2, limits.output_bytes)
    execution.seconds = time.perf_counter() - started
    return execution.to_dict()


PR_SET_DUMPABLE = 4


def _not_dumpable() -> None:
    """No /proc/<pid>/mem, /proc/<pid>/fd or ptrace of this process by its own children."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_DUMPABLE, 0) failed")


def _clean_import_path(workdir: str) -> None:
    """Nothing a program can write is on the import path: `python -m` puts the working directory
    first, and a module file a program leaves there would shadow a standard one for the next.
    (Entries under /tmp stay: inside bwrap they are read-only binds of what the worker needs.)"""
    own = workdir.rstrip("/") + "/"
    sys.path[:] = [p for p in sys.path
                   if p and p != "." and not (os.path.abspath(p) + "/").startswith(own)]
    sys.path_importer_cache.clear()


def main() -> None:
    log = os.fdopen(os.dup(2), "w")  # worker.log: why this worker died, for the pool to report
    try:
        _serve()
    except BaseException:
        traceback.print_exc(file=log)
        log.flush()
        raise SystemExit(1)


def _serve() -> None:
    _not_dumpable()
    workdir = os.getcwd()
    _clean_import_path(workdir)
    proto_in, proto_out = _take_protocol_fds()
    init = read_message(proto_in)
    if init is None:
        return
    limits = Limits(**init["limits"])
    _set_limits(limits)
    language = load_language(init["language"])
    interpreter = language.interpreter(limits)
    write_message(proto_out, {"ready": True, "pid": os.getpid()})
    leftovers = Leftovers(interpreter, init.get("tasks"))
    workspace = Workspace(workdir, init.get("private") or [])
    while (request := read_message(proto_in)) is not None:
        request_id = request.pop("id", None)  # kept out of the interpreter's reach
        request_limits = Limits(**request["limits"])
        leftovers.before()
        reply = _execute(interpreter, request, request_limits)
        retire = leftovers.after() or workspace.reset()
        reply["id"] = request_id
        if retire:
            reply["retire"] = retire
        write_message(proto_out, reply)
        if retire:
            return  # the pool retires this worker on reading the reply; exiting ends the sandbox


if __name__ == "__main__":
    main()
