"""What a program leaves in its sandbox worker, found (and where it can be, undone) after each one.

    leftovers = Leftovers(interpreter, "/sys/fs/cgroup/pids/.../pids.current")
    workspace = Workspace(workdir, ["/tmp", "/dev/shm"])
    leftovers.before(); run the program; why = leftovers.after() or workspace.reset()

Used by lowres_rl.sandbox.worker between programs. A non-empty answer means the worker cannot be made as
it was for the next program: it says so in its reply and exits, and the pool starts a fresh one.

Leftover processes and threads are counted three ways, each where the machine gives it: threads of
this process and the interpreter's helpers (/proc/<pid>/task); inside a PID namespace, every other
process that still has a live task — a thread-group leader that exited while another thread runs
on shows as a zombie in /proc/<pid>/stat, but its task directory lists the live thread; and with a
per-worker cgroup, the kernel's own count of every task in the sandbox (pids.current).
"""
from __future__ import annotations

import os
import shutil
import signal
from typing import Any, Iterable

LAZY_THREADS = 1  # threads a runtime may start by itself after start-up (SWI's alarm thread,
                  # SBCL's finalizer): more than that, left after a program, retire the worker


def threads(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return 0


def _live(pid: int) -> bool:
    """Whether any task of process `pid` is not a zombie (a zombie leader's threads count)."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return False
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] != "Z":
                    return True
        except (OSError, IndexError):
            continue
    return False


def strays(keep: Iterable[int]) -> list[int]:
    """Processes in this PID namespace, other than `keep`, with a live task."""
    keep = set(keep)
    return [int(e) for e in os.listdir("/proc") if e.isdigit() and int(e) not in keep and _live(int(e))]


def _tasks(counter: str) -> int | None:
    try:
        with open(counter) as f:
            return int(f.read())
    except (OSError, ValueError):
        return None


class Leftovers:
    """What a program left running once it returned (see the module docstring)."""

    def __init__(self, interpreter: Any, counter: str | None = None) -> None:
        self._helper_pids = getattr(interpreter, "helper_pids", lambda: [])
        self._pidns = os.environ.get("LOWRES_RL_PIDNS") == "1"
        self._counter = counter if counter and _tasks(counter) is not None else None
        self._allowed: dict[int, int] = {}
        self._tasks_allowed: int | None = None

    def before(self) -> None:
        helpers = [os.getpid(), *self._helper_pids()]
        for pid in helpers:
            self._allowed.setdefault(pid, threads(pid) + LAZY_THREADS)
        if self._counter and self._tasks_allowed is None:
            self._tasks_allowed = (_tasks(self._counter) or 0) + LAZY_THREADS * len(helpers)

    def after(self) -> str:
        helpers = list(self._helper_pids())
        for pid in [os.getpid(), *helpers]:
            count = threads(pid)
            if count > self._allowed.setdefault(pid, count + LAZY_THREADS):
                return f"the program left threads running ({count} in process {pid})"
        if self._pidns:
            found = strays({1, os.getpid(), *helpers})
            for pid in found:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            if found:
                return f"the program left {len(found)} process(es) running"
        if self._counter and self._tasks_allowed is not None:
            count = _tasks(self._counter)
            if count is None or count > self._tasks_allowed:
                return f"the program left tasks in the worker's cgroup ({count}, at most {self._tasks_allowed})"
        return ""


class Workspace:
    """The directories a program can write to (the worker's own, and /tmp and /dev/shm where they
    are private to the sandbox), emptied after every program and checked: a module file, a full
    disk or a changed mode left by one program never reaches the next."""

    def __init__(self, workdir: str, private: list[str]) -> None:
        """What is there now stays: the worker's capture files, and in /tmp the directories the
        sandbox made to mount the worker's own directory (and what else it binds) on."""
        dirs = [workdir, *(d for d in private if os.path.isdir(d))]
        self._dirs = [(d, frozenset(os.listdir(d))) for d in dirs]
        self._modes = {d: os.stat(d).st_mode & 0o7777 for d in dirs}

    def reset(self) -> str:
        """Empty every directory; a reason to retire the worker if one cannot be emptied."""
        for directory, keep in self._dirs:
            try:
                if os.stat(directory).st_mode & 0o7777 != self._modes[directory]:
                    os.chmod(directory, self._modes[directory])
                entries = [e for e in os.scandir(directory) if e.name not in keep]
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        shutil.rmtree(entry.path)
                    else:
                        os.unlink(entry.path)
                if entries and any(e.name not in keep for e in os.scandir(directory)):
                    return f"the program left files in {directory} that cannot be removed"
            except OSError as exc:
                return f"cannot empty {directory} after the program: {exc}"
        return ""
