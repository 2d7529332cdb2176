"""Worker pools: where model-written programs run, never in the calling process.

    pool = Pool(get_language("prolog"), Limits(timeout=2.0), workers=4)
    executions = pool.run([(code, query), ...], limits)   # input order, one per job
    pool.close()

Each worker is a spawned `python -m lowres_rl.sandbox.worker` (never forked: pyswip and threads do not
survive a fork) in its own session, working directory and scrubbed environment; it sets its own
resource limits and builds the language's interpreter. One thread drives all workers of a pool with
a selector: it hands out jobs (each worker holds the one it runs and the next, so it never waits
for the pool between programs), reads replies, and kills a worker's whole process group when its
program passes the wall deadline (user code can catch every exception, so only a kill is a reliable
limit). A dead, killed or worn-out worker is replaced; the batch always gets one Execution per job.

The channel is a trust boundary: a worker runs hostile code, so nothing it writes is believed
unchecked. Every request carries a random id the program never sees and its reply must carry it
back (a forged, extra or out-of-order frame is caught); replies are capped from their header and
field by field; any malformed frame is `crashed` for the running program and retires the worker.
Both pipes are non-blocking: a request a worker does not read stays in the pool's outbox until the
pipe takes it, so a stopped or wedged worker never blocks the pool — its program's deadline does.

Not protected against here: what the OS layer (lowres_rl.sandbox.isolation) does not remove — see there.
"""
from __future__ import annotations

import atexit
import logging
import os
import secrets
import selectors
import subprocess
import sys
import tempfile
import time
import weakref
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

import lowres_rl.sandbox.cgroups as cgroups
from lowres_rl.languages.base import Language
from lowres_rl.languages.contract import Execution, Limits, Status
from lowres_rl.sandbox.process import kill, spawn
from lowres_rl.sandbox.protocol import FrameBuffer, Outbox, encode

log = logging.getLogger(__name__)

GRACE = Language.kill_grace  # seconds past the limit before a worker is killed, unless its language says
START_TIMEOUT = 60.0    # seconds a new worker may take to import its interpreter
RECYCLE_AFTER = 2000    # programs per worker before it is replaced (bounds leaks and tampering)
MAX_START_FAILURES = 3  # consecutive workers that die before ready: the language is broken
QUEUED = 2              # jobs a worker may hold: the one it runs and the next, already in its pipe,
                        # so that it never idles waiting for the pool between two programs
QUEUED_BYTES = 32_768   # larger requests wait for an idle worker (a pipe holds 64 KiB): a queued
                        # request then always fits in the pipe while the worker runs a program
REPLY_BYTES = 1 << 20   # a reply frame's size beyond 8 bytes per captured output byte: larger ones
                        # are refused from their header (a reply holds two outputs, error, warnings)


@dataclass(eq=False)
class _Worker:
    proc: subprocess.Popen
    workdir: str
    buffer: FrameBuffer = field(default_factory=FrameBuffer)
    outbox: Outbox = field(default_factory=Outbox)  # request bytes the pipe has not taken yet
    ready: bool = False
    started: float = field(default_factory=time.monotonic)
    jobs: deque = field(default_factory=deque)  # indexes of the jobs sent, in order; the first runs
    ids: deque = field(default_factory=deque)   # the request id of each, which its reply must carry
    deadline: float = 0.0       # when the running job's time is up
    began: float = 0.0          # when the running job began (was sent, or its predecessor answered)
    served: int = 0

    @property
    def job(self) -> int | None:
        """The job the worker is running, if any."""
        return self.jobs[0] if self.jobs else None

    def begin(self, limits: Limits, grace: float) -> None:
        """The first queued job starts now: its clock runs from here."""
        self.began = time.monotonic()
        self.deadline = self.began + limits.timeout + grace


class Pool:
    """A pool of sandbox workers for one language. Not thread-safe: one `run` at a time."""

    def __init__(self, language: Language, limits: Limits, workers: int | None = None,
                 recycle_after: int = RECYCLE_AFTER) -> None:
        from lowres_rl.languages import language_spec
        from lowres_rl.sandbox.cpus import pool_size
        from lowres_rl.sandbox.isolation import level as isolation_level, wrapper

        self.spec = language_spec(language)
        self.name = language.name
        self.grace = language.kill_grace
        self.limits = limits
        self.size = pool_size(workers)  # this rank's share of the CPUs it may use (lowres_rl.sandbox.cpus)
        self.recycle_after = recycle_after
        self._wrapper = wrapper()  # sets up the cgroups, whose exit hook must run after ours
        _register_exit_hook()
        # Directories the worker may empty after each program: only where they are its own.
        self._private = ["/tmp", "/dev/shm"] if isolation_level().startswith("bwrap") else []
        self._workers: list[_Worker] = []
        self._pending: deque = deque()  # the running batch's jobs not yet sent to a worker
        self._jobs: Sequence[tuple[str, str]] = ()
        self._limits = limits
        self._selector = selectors.DefaultSelector()
        self._start_failures = 0
        self._last_start_error = ""
        _live_pools.add(self)

    def fits(self, limits: Limits, workers: int | None) -> bool:
        """Whether this pool's workers were started with the worker-level parts of `limits`."""
        return limits.memory_mb == self.limits.memory_mb and (workers is None or workers == self.size)

    def pids(self) -> list[int]:
        return [w.proc.pid for w in self._workers]

    # -- one batch ---------------------------------------------------------------------------

    def run(self, jobs: Sequence[tuple[str, str]], limits: Limits | None = None) -> list[Execution]:
        """Run (code, query) jobs across the workers; one Execution per job, in input order."""
        limits = limits or self.limits
        results: list[Execution | None] = [None] * len(jobs)
        self._limits = limits
        self._jobs, self._pending = jobs, deque(range(len(jobs)))
        pending = self._pending
        self._reap_idle()
        for worker in self._workers:
            worker.buffer.max_frame = self._reply_cap()
        while pending or any(w.jobs for w in self._workers):
            self._top_up(len(pending))
            if self._start_failures >= MAX_START_FAILURES:
                self._fail_pending(pending, results)
                continue
            for depth in range(1, QUEUED + 1):  # an idle worker first, a second job to each after
                for worker in list(self._workers):
                    if pending and len(worker.jobs) < depth and self._takes_more(worker):
                        self._dispatch(worker)
            self._wait(results, limits)
        return results  # type: ignore[return-value]

    def _takes_more(self, worker: _Worker) -> bool:
        """Whether to send the worker another job now: when idle, or when it has room in its
        queue, the next request is small and it will not be recycled before reaching it."""
        if not worker.ready or worker.proc.poll() is not None:
            return False
        if not worker.jobs:
            return True
        return (len(worker.jobs) < QUEUED and worker.served + len(worker.jobs) < self.recycle_after
                and self._request_size(self._pending[0]) <= QUEUED_BYTES)

    def _request_size(self, index: int) -> int:
        code, query = self._jobs[index]
        return 4 * (len(code) + len(query)) + 512  # UTF-8 and JSON escapes at most quadruple it

    def _top_up(self, backlog: int) -> None:
        """Start workers until the pool has `size` of them (no more than there is work for)."""
        busy = sum(bool(w.jobs) for w in self._workers)
        while len(self._workers) < min(self.size, busy + backlog) and self._start_failures < MAX_START_FAILURES:
            self._spawn()

    def _reap_idle(self) -> None:
        """Retire workers that died while idle, so no program is handed to a dead one."""
        for worker in list(self._workers):
            if not worker.jobs and worker.proc.poll() is not None:
                self._retire(worker)

    def _dispatch(self, worker: _Worker) -> None:
        """Send the next pending job to the worker (back to the queue if it cannot take it)."""
        index = self._pending.popleft()
        code, query = self._jobs[index]
        request_id = secrets.token_hex(8)
        message = {"id": request_id, "code": code, "query": query, "limits": asdict(self._limits)}
        if not self._send(worker, encode(message)):  # it died before taking the job: the job goes
            self._pending.appendleft(index)          # back, untouched
            if not worker.jobs:
                self._retire(worker)
            return  # else the running job's end (a reply or the end of stream) settles it
        worker.jobs.append(index)
        worker.ids.append(request_id)
        if len(worker.jobs) == 1:
            worker.begin(self._limits, self.grace)

    def _send(self, worker: _Worker, data: bytes = b"") -> bool:
        """Write `data` (after what the worker's pipe has not taken yet) as far as the pipe takes
        it now, never blocking; the selector waits for room for the rest. False if the pipe is
        broken (the worker died)."""
        sent = worker.outbox.send(worker.proc.stdin.fileno(), data)  # type: ignore[union-attr]
        self._watch_writes(worker, sent and bool(worker.outbox))
        return sent

    def _watch_writes(self, worker: _Worker, on: bool) -> None:
        stdin = worker.proc.stdin
        registered = stdin in self._selector.get_map()  # type: ignore[operator]
        if on and not registered:
            self._selector.register(stdin, selectors.EVENT_WRITE, worker)  # type: ignore[arg-type]
        elif not on and registered:
            self._selector.unregister(stdin)  # type: ignore[arg-type]

    def _reply_cap(self) -> int:
        return REPLY_BYTES + 8 * max(self._limits.output_bytes, self.limits.output_bytes)

    def _wait(self, results: list[Execution | None], limits: Limits) -> None:
        """Wait for replies or the nearest deadline, then settle what happened."""
        now = time.monotonic()
        deadlines = [w.deadline if w.job is not None else w.started + START_TIMEOUT
                     for w in self._workers if w.job is not None or not w.ready]
        timeout = max(0.0, min(deadlines) - now) if deadlines else 0.05
        for key, events in self._selector.select(timeout):
            worker = key.data
            if worker not in self._workers:
                continue  # retired by an event handled before this one
            if events & selectors.EVENT_WRITE and key.fileobj is worker.proc.stdin:
                self._send(worker)
            else:
                self._on_readable(worker, results)
        now = time.monotonic()
        for worker in list(self._workers):
            if worker.jobs and now >= worker.deadline:
                self._finish(worker, results, Execution(
                    Status.TIMEOUT, error=f"killed after the {limits.timeout:g}s wall-clock limit"))
                self._retire(worker)
            elif not worker.ready and now >= worker.started + START_TIMEOUT:
                self._start_failed(worker, "did not become ready in time")

    def _on_readable(self, worker: _Worker, results: list[Execution | None]) -> None:
        try:
            chunk = os.read(worker.proc.stdout.fileno(), 1 << 20)  # type: ignore[union-attr]
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        try:
            messages = worker.buffer.feed(chunk) if chunk else None
        except Exception as exc:  # noqa: BLE001 - ProtocolError, or MemoryError on a flood
            self._broken(worker, results, f"{type(exc).__name__}: {exc}")
            return
        if messages is None:  # end of stream: the worker died
            if not worker.ready:
                self._start_failed(worker, "exited during start-up")
                return
            if worker.job is not None:
                self._finish(worker, results, Execution(Status.CRASHED, error=self._death_note(worker)))
            self._retire(worker)
            return
        for message in messages:
            if worker not in self._workers:
                break  # retired by the previous message: the rest is not believed
            self._on_message(worker, message, results)

    def _on_message(self, worker: _Worker, message: dict[str, Any], results: list[Execution | None]) -> None:
        if not worker.ready:
            if message.get("ready") is not True:
                self._start_failed(worker, "answered its start with something else")
                return
            worker.ready = True
            self._start_failures = 0
            return
        if worker.job is None:
            self._broken(worker, results, "a reply nobody asked for")
            return
        if message.get("id") != worker.ids[0]:
            self._broken(worker, results, "a reply without the running request's id")
            return
        try:
            execution = Execution.from_dict(message, self._limits)
        except Exception as exc:  # noqa: BLE001 - KeyError, ValueError, TypeError, ...
            self._broken(worker, results, f"malformed reply: {type(exc).__name__}: {exc}")
            return
        self._finish(worker, results, execution)
        worker.served += 1
        if message.get("retire"):  # the program left threads or processes behind
            log.debug("%s worker %d retires: %s", self.name, worker.proc.pid, message["retire"])
            self._retire(worker)
        elif worker.served >= self.recycle_after:
            self._retire(worker)

    def _broken(self, worker: _Worker, results: list[Execution | None], what: str) -> None:
        """The worker broke the protocol: its running program is `crashed`, the worker retired."""
        log.warning("%s worker %d broke the protocol: %s", self.name, worker.proc.pid, what)
        if worker.job is not None:
            self._finish(worker, results, Execution(Status.CRASHED, error=f"the worker broke the protocol ({what})"))
        self._retire(worker)

    def _finish(self, worker: _Worker, results: list[Execution | None], execution: Execution) -> None:
        """Settle the running job; the next queued one, if any, starts now."""
        execution.seconds = round(time.monotonic() - worker.began, 6)
        results[worker.jobs.popleft()] = execution
        worker.ids.popleft()
        if worker.jobs:
            worker.begin(self._limits, self.grace)

    def _fail_pending(self, pending: deque, results: list[Execution | None]) -> None:
        note = f"{self.name} workers fail to start: {self._last_start_error}"
        while pending:
            results[pending.popleft()] = Execution(Status.CRASHED, error=note)

    # -- worker lifecycle --------------------------------------------------------------------

    def _spawn(self) -> None:
        from lowres_rl.sandbox.isolation import worker_environment

        workdir = tempfile.mkdtemp(prefix=f"lowres-{self.name}-")
        log_file = open(os.path.join(workdir, "worker.log"), "wb")
        command = [*self._wrapper(workdir), sys.executable, "-m", "lowres_rl.sandbox.worker"]
        proc = spawn(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log_file,
                     cwd=workdir, env=worker_environment(workdir), start_new_session=True, bufsize=0)
        log_file.close()
        for stream in (proc.stdin, proc.stdout):
            os.set_blocking(stream.fileno(), False)  # type: ignore[union-attr]
        worker = _Worker(proc, workdir, FrameBuffer(self._reply_cap()))
        self._workers.append(worker)
        self._selector.register(proc.stdout, selectors.EVENT_READ, worker)  # type: ignore[arg-type]
        init = {"language": self.spec, "limits": asdict(self.limits), "tasks": cgroups.task_counter(workdir),
                "private": self._private}
        self._send(worker, encode(init))  # if it died at once, the selector sees the EOF

    def _start_failed(self, worker: _Worker, what: str) -> None:
        self._last_start_error = f"worker {what}: {self._death_note(worker)}"
        log.error("%s %s", self.name, self._last_start_error)
        self._start_failures += 1
        self._retire(worker)

    def _death_note(self, worker: _Worker) -> str:
        """The tail of the worker's own log: why it died, when it said so."""
        try:
            with open(os.path.join(worker.workdir, "worker.log"), "rb") as f:
                tail = f.read()[-2000:].decode("utf-8", "replace").strip()
        except OSError:
            tail = ""
        code = worker.proc.poll()
        return f"worker exited (code {code})" + (f": {tail}" if tail else "")

    def _retire(self, worker: _Worker) -> None:
        """Kill the worker's whole process group, reap it and remove its directory. Jobs it was
        sent but never started go back to the front of the queue, in order."""
        self._watch_writes(worker, False)
        self._selector.unregister(worker.proc.stdout)
        self._workers.remove(worker)
        kill(worker.proc, worker.workdir)
        self._pending.extendleft(reversed(worker.jobs))
        worker.jobs.clear()
        worker.ids.clear()

    def close(self) -> None:
        for worker in list(self._workers):
            self._retire(worker)
        self._selector.close()
        _live_pools.discard(self)

    def __enter__(self) -> "Pool":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_live_pools: "weakref.WeakSet[Pool]" = weakref.WeakSet()

_hooked = False


def _register_exit_hook() -> None:
    """Close every pool at exit, before the cgroups are removed: atexit runs hooks last-in
    first-out, so this is registered once the isolation layer (and its cgroups hook) exists."""
    global _hooked
    if not _hooked:
        _hooked = True
        atexit.register(_close_all)


def _close_all() -> None:
    for pool in list(_live_pools):
        pool.close()
