"""Worker pools: where model-written programs run, never in the calling process.

    pool = Pool(get_language("prolog"), Limits(timeout=2.0), workers=4)
    executions = pool.run([(code, query), ...], limits)   # input order, one per job
    pool.close()

Each worker is a spawned `python -m lowres_rl.worker` (never forked: pyswip and threads do not
survive a fork) in its own session, working directory and scrubbed environment; it sets its own
resource limits and builds the language's interpreter. One thread drives all workers of a pool with
a selector: it hands out jobs (each worker holds the one it runs and the next, so it never waits
for the pool between programs), reads replies, and kills a worker's whole process group when its
program passes the wall deadline (user code can catch every exception, so only a kill is a reliable
limit). A dead, killed or worn-out worker is replaced; the batch always gets one Execution per job.

Not protected against here: what the OS layer (lowres_rl.isolation) does not remove — see there.
"""
from __future__ import annotations

import atexit
import logging
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import weakref
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

from lowres_rl.languages.base import Execution, Language, Limits, Status
from lowres_rl.protocol import FrameBuffer, ProtocolError, encode

log = logging.getLogger(__name__)

GRACE = 0.5             # seconds past the limit before the worker is killed (in-interpreter limits act first)
START_TIMEOUT = 60.0    # seconds a new worker may take to import its interpreter
RECYCLE_AFTER = 2000    # programs per worker before it is replaced (bounds leaks and tampering)
MAX_START_FAILURES = 3  # consecutive workers that die before ready: the language is broken
QUEUED = 2              # jobs a worker may hold: the one it runs and the next, already in its pipe,
                        # so that it never idles waiting for the pool between two programs
QUEUED_BYTES = 32_768   # larger requests wait for an idle worker: a pipe holds 64 KiB, and a write
                        # to a full pipe would block the pool while the worker runs a program


@dataclass(eq=False)
class _Worker:
    proc: subprocess.Popen
    workdir: str
    buffer: FrameBuffer = field(default_factory=FrameBuffer)
    ready: bool = False
    started: float = field(default_factory=time.monotonic)
    jobs: deque = field(default_factory=deque)  # indexes of the jobs sent, in order; the first runs
    deadline: float = 0.0       # when the running job's time is up
    began: float = 0.0          # when the running job began (was sent, or its predecessor answered)
    served: int = 0

    @property
    def job(self) -> int | None:
        """The job the worker is running, if any."""
        return self.jobs[0] if self.jobs else None

    def begin(self, limits: Limits) -> None:
        """The first queued job starts now: its clock runs from here."""
        self.began = time.monotonic()
        self.deadline = self.began + limits.timeout + GRACE


class Pool:
    """A pool of sandbox workers for one language. Not thread-safe: one `run` at a time."""

    def __init__(self, language: Language, limits: Limits, workers: int | None = None,
                 recycle_after: int = RECYCLE_AFTER) -> None:
        from lowres_rl.languages import language_spec
        from lowres_rl.cpus import pool_size
        from lowres_rl.isolation import wrapper

        self.spec = language_spec(language)
        self.name = language.name
        self.limits = limits
        self.size = pool_size(workers)  # this rank's share of the CPUs it may use (lowres_rl.cpus)
        self.recycle_after = recycle_after
        self._wrapper = wrapper()
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
        message = {"code": code, "query": query, "limits": asdict(self._limits)}
        try:
            worker.proc.stdin.write(encode(message))  # type: ignore[union-attr]
            worker.proc.stdin.flush()  # type: ignore[union-attr]
        except OSError:  # it died before taking the job: the job goes back, untouched
            self._pending.appendleft(index)
            if not worker.jobs:
                self._retire(worker)
            return  # else the running job's end (a reply or the end of stream) settles it
        worker.jobs.append(index)
        if len(worker.jobs) == 1:
            worker.begin(self._limits)

    def _wait(self, results: list[Execution | None], limits: Limits) -> None:
        """Wait for replies or the nearest deadline, then settle what happened."""
        now = time.monotonic()
        deadlines = [w.deadline if w.job is not None else w.started + START_TIMEOUT
                     for w in self._workers if w.job is not None or not w.ready]
        timeout = max(0.0, min(deadlines) - now) if deadlines else 0.05
        for key, _ in self._selector.select(timeout):
            self._on_readable(key.data, results)
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
            messages = worker.buffer.feed(chunk) if chunk else None
        except (OSError, ProtocolError) as exc:
            chunk, messages = b"", None
            log.warning("%s worker %d broke the protocol: %s", self.name, worker.proc.pid, exc)
        if messages is None:  # end of stream: the worker died
            if not worker.ready:
                self._start_failed(worker, "exited during start-up")
                return
            if worker.job is not None:
                self._finish(worker, results, Execution(Status.CRASHED, error=self._death_note(worker)))
            self._retire(worker)
            return
        for message in messages:
            self._on_message(worker, message, results)

    def _on_message(self, worker: _Worker, message: dict[str, Any], results: list[Execution | None]) -> None:
        if not worker.ready:
            worker.ready = bool(message.get("ready"))
            self._start_failures = 0
            return
        if worker.job is None:
            return  # a reply nobody asked for: ignore it
        try:
            execution = Execution.from_dict(message)
        except (KeyError, ValueError, TypeError) as exc:
            execution = Execution(Status.CRASHED, error=f"malformed reply from worker: {exc}")
        self._finish(worker, results, execution)
        worker.served += 1
        if message.get("retire"):  # the program left threads or processes behind
            log.debug("%s worker %d retires: %s", self.name, worker.proc.pid, message["retire"])
            self._retire(worker)
        elif worker.served >= self.recycle_after:
            self._retire(worker)

    def _finish(self, worker: _Worker, results: list[Execution | None], execution: Execution) -> None:
        """Settle the running job; the next queued one, if any, starts now."""
        execution.seconds = round(time.monotonic() - worker.began, 6)
        results[worker.jobs.popleft()] = execution
        if worker.jobs:
            worker.begin(self._limits)

    def _fail_pending(self, pending: deque, results: list[Execution | None]) -> None:
        note = f"{self.name} workers fail to start: {self._last_start_error}"
        while pending:
            results[pending.popleft()] = Execution(Status.CRASHED, error=note)

    # -- worker lifecycle --------------------------------------------------------------------

    def _spawn(self) -> None:
        from lowres_rl.isolation import worker_environment

        workdir = tempfile.mkdtemp(prefix=f"lowres-{self.name}-")
        log_file = open(os.path.join(workdir, "worker.log"), "wb")
        command = [*self._wrapper(workdir), sys.executable, "-m", "lowres_rl.worker"]
        proc = _SPAWNER.submit(
            subprocess.Popen, command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log_file,
            cwd=workdir, env=worker_environment(workdir), start_new_session=True, bufsize=0,
        ).result()
        log_file.close()
        os.set_blocking(proc.stdout.fileno(), False)  # type: ignore[union-attr]
        worker = _Worker(proc, workdir)
        self._workers.append(worker)
        self._selector.register(proc.stdout, selectors.EVENT_READ, worker)  # type: ignore[arg-type]
        init = {"language": self.spec, "limits": asdict(self.limits)}
        try:
            proc.stdin.write(encode(init))  # type: ignore[union-attr]
            proc.stdin.flush()  # type: ignore[union-attr]
        except OSError:
            pass  # it died at once; the selector sees the EOF

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
        self._selector.unregister(worker.proc.stdout)
        self._workers.remove(worker)
        _kill(worker)
        self._pending.extendleft(reversed(worker.jobs))
        worker.jobs.clear()

    def close(self) -> None:
        for worker in list(self._workers):
            self._retire(worker)
        self._selector.close()
        _live_pools.discard(self)

    def __enter__(self) -> "Pool":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _kill(worker: _Worker) -> None:
    try:
        os.killpg(worker.proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    for stream in (worker.proc.stdin, worker.proc.stdout):
        try:
            stream.close()  # type: ignore[union-attr]
        except OSError:
            pass
    worker.proc.wait()
    shutil.rmtree(worker.workdir, ignore_errors=True)


_live_pools: "weakref.WeakSet[Pool]" = weakref.WeakSet()

# Every worker is started from this one long-lived thread. A sandbox layer may tie the worker's
# life to its parent (bwrap --die-with-parent, i.e. PR_SET_PDEATHSIG), and Linux counts the
# *thread* that forked as the parent: a worker started from a short-lived thread (a grader's
# per-language thread, an async reward function) would be killed when that thread ends.
_SPAWNER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lowres-spawner")


@atexit.register
def _close_all() -> None:
    for pool in list(_live_pools):
        pool.close()
