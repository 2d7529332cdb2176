"""Per-worker cgroups: a pids.max, a memory ceiling and one CPU core for each sandbox worker.

    groups = Cgroups.create(notes)      # None where no writable hierarchy lets this process nest
    prefix = groups.enter(workdir)      # a command prefix that moves the worker into its groups

Used by lowres_rl.sandbox.isolation where the machine allows it (the level then reads `+cgroup`). As root,
RLIMIT_NPROC is not enforced, so pids.max is what bounds a fork bomb while it lives. Groups are
removed once their worker's directory is gone (swept at the next spawn and at exit).

    task_counter(workdir)   # the worker's pids.current: every task it and its programs hold
    kill_worker(workdir)    # SIGKILL (cgroup.kill on v2) everything in the worker's groups

The worker reads its own pids.current after each program: a count, kept by the kernel, of every
thread of every process in the sandbox, zombies' live threads included, that no trick with
/proc/<pid>/stat hides (lowres_rl.sandbox.worker).
"""
from __future__ import annotations

import atexit
import os
import signal
import threading
import time

PIDS_MAX = 128               # processes and threads per worker sandbox
WORKER_MEMORY_MB = 5120      # per worker sandbox, all its processes and tmpfs pages

_ENTER = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"'


class Cgroups:
    """Per-worker cgroups under a group of this process's own, in every writable hierarchy that
    has the pids controller (v1: pids, memory, cpu hierarchies; v2: one unified hierarchy)."""

    def __init__(self, parents: dict[str, str], v2: bool) -> None:
        self.parents = parents           # controller (or "unified") -> our group's directory
        self.v2 = v2
        self.memory_mb = _env_int("LOWRES_RL_WORKER_MEMORY_MB", WORKER_MEMORY_MB)
        self._live: dict[str, list[str]] = {}   # workdir -> its cgroup directories
        self._lock = threading.Lock()

    def summary(self) -> str:
        kinds = sorted(self.parents) if not self.v2 else ["v2"]
        return f"pids.max={PIDS_MAX}, memory={self.memory_mb}MB, cpu=1 core ({', '.join(kinds)})"

    @classmethod
    def create(cls, notes: list[str]) -> "Cgroups | None":
        if os.environ.get("LOWRES_RL_CGROUPS") == "0":
            return None
        try:
            found = cls._v1() or cls._v2()
        except OSError as exc:
            found = None
            notes.append(f"cgroups unusable: {exc}")
        if found is None:
            return None
        found._sweep_stale()
        atexit.register(found._at_exit)
        return found

    @classmethod
    def _v1(cls) -> "Cgroups | None":
        mounts = _cgroup_mounts()
        own = _own_cgroups()
        parents: dict[str, str] = {}
        for controller in ("pids", "memory", "cpu"):
            if controller not in mounts:
                continue
            base = os.path.join(mounts[controller], own.get(controller, "/").lstrip("/"))
            group = os.path.join(base, f"lowres-{os.getpid()}")
            try:
                os.makedirs(group, exist_ok=True)
                _write(os.path.join(group, "cgroup.procs"), None)  # writable?
            except OSError:
                if controller == "pids":
                    return None
                continue
            parents[controller] = group
        if "pids" not in parents:
            return None
        return cls(parents, v2=False)

    @classmethod
    def _v2(cls) -> "Cgroups | None":
        mount = _cgroup_mounts().get("unified")
        if mount is None:
            return None
        base = os.path.join(mount, _own_cgroups().get("", "/").lstrip("/"))
        available = _read(os.path.join(base, "cgroup.controllers")).split()
        if "pids" not in available:
            return None
        wanted = [c for c in ("pids", "memory", "cpu") if c in available]
        enabled = _read(os.path.join(base, "cgroup.subtree_control")).split()
        for controller in wanted:
            if controller not in enabled:
                try:
                    _write(os.path.join(base, "cgroup.subtree_control"), f"+{controller}")
                except OSError:
                    if controller == "pids":
                        return None
        group = os.path.join(base, f"lowres-{os.getpid()}")
        os.makedirs(group, exist_ok=True)
        enabled = _read(os.path.join(base, "cgroup.subtree_control")).split()
        try:
            _write(os.path.join(group, "cgroup.subtree_control"),
                   " ".join(f"+{c}" for c in wanted if c in enabled))
        except OSError:
            os.rmdir(group)
            return None
        return cls({"unified": group}, v2=True)

    def enter(self, workdir: str) -> list[str]:
        """Make the worker's cgroups; the command prefix that moves the worker into them."""
        self.sweep()
        name = os.path.basename(workdir.rstrip("/"))
        made: list[str] = []
        for controller, parent in self.parents.items():
            group = os.path.join(parent, name)
            os.makedirs(group, exist_ok=True)
            made.append(group)
            for file, value in self._limits(controller):
                try:
                    _write(os.path.join(group, file), value)
                except OSError:
                    pass  # that knob is missing here; the others still apply
        with self._lock:
            self._live[workdir] = made
        _WORKERS[workdir] = (dict(zip(self.parents, made)), self.v2)
        return ["/bin/sh", "-c", _ENTER, "sh", *(os.path.join(g, "cgroup.procs") for g in made), "--"]

    def _limits(self, controller: str) -> list[tuple[str, str]]:
        memory = str(self.memory_mb << 20)
        if self.v2:
            return [("pids.max", str(PIDS_MAX)), ("memory.max", memory), ("memory.swap.max", "0"),
                    ("cpu.max", "100000 100000")]
        return {"pids": [("pids.max", str(PIDS_MAX))],
                "memory": [("memory.limit_in_bytes", memory)],
                "cpu": [("cpu.cfs_period_us", "100000"), ("cpu.cfs_quota_us", "100000")]}[controller]

    def sweep(self) -> None:
        """Remove the cgroups of workers whose directory is gone (the pool removes it last)."""
        with self._lock:
            for workdir, groups in list(self._live.items()):
                if os.path.exists(workdir):
                    continue
                left = [g for g in groups if not _rmdir(g)]
                _WORKERS.pop(workdir, None)
                if left:
                    self._live[workdir] = left
                else:
                    del self._live[workdir]

    def remove_all(self, kill: bool = False) -> None:
        """Remove every group of this process (at exit: killing what is still in them first)."""
        with self._lock:
            self._live.clear()
        for parent in self.parents.values():
            if kill:
                _kill_tree(parent)
            _remove_tree(parent)

    def _at_exit(self) -> None:
        # Runs after the pools' exit hook (lowres_rl.sandbox.pool registers it later), so the
        # workers are dead and their groups empty; kill whatever is left in them regardless.
        self.remove_all(kill=True)

    def _sweep_stale(self) -> None:
        """Groups left by earlier processes that died without cleaning up (their pid is gone)."""
        for parent in self.parents.values():
            base = os.path.dirname(parent)
            try:
                entries = os.listdir(base)
            except OSError:
                continue
            for entry in entries:
                if entry.startswith("lowres-") and entry[7:].isdigit() and not _alive(int(entry[7:])):
                    _remove_tree(os.path.join(base, entry))


_WORKERS: dict[str, tuple[dict[str, str], bool]] = {}  # workdir -> (controller -> group, v2)


def task_counter(workdir: str) -> str | None:
    """The pids.current file that counts the tasks of the worker in `workdir`, if it has a group."""
    groups, _ = _WORKERS.get(workdir, ({}, False))
    group = groups.get("unified") or groups.get("pids")
    return os.path.join(group, "pids.current") if group else None


def kill_worker(workdir: str) -> None:
    """Kill every process in the worker's groups, wherever it moved in the process tree: with
    cgroup.kill on v2 (one write, race-free), else by the pids its cgroup.procs lists (one pass:
    the process group is killed already, this is for what left it)."""
    groups, v2 = _WORKERS.get(workdir, ({}, False))
    group = groups.get("unified") or groups.get("pids")
    if group is None:
        return
    if v2:
        try:
            _write(os.path.join(group, "cgroup.kill"), "1")
            return
        except OSError:
            pass  # a kernel before 5.14: no cgroup.kill
    for pid in _read(os.path.join(group, "cgroup.procs")).split():
        try:
            os.kill(int(pid), signal.SIGKILL)
        except (OSError, ValueError):
            pass


def _cgroup_mounts() -> dict[str, str]:
    """controller -> mount point for v1 hierarchies; "unified" -> the v2 mount point."""
    found: dict[str, str] = {}
    with open("/proc/self/mounts") as f:
        for line in f:
            fields = line.split()
            if len(fields) < 4:
                continue
            if fields[2] == "cgroup2":
                found.setdefault("unified", fields[1])
            elif fields[2] == "cgroup":
                for option in fields[3].split(","):
                    if option in ("pids", "memory", "cpu"):
                        found.setdefault(option, fields[1])
    return found


def _own_cgroups() -> dict[str, str]:
    """controller -> this process's cgroup path ("" -> its v2 path)."""
    found: dict[str, str] = {}
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            for controller in controllers.split(","):
                found[controller] = path
    return found


def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def _write(path: str, value: str | None) -> None:
    if value is None:  # only check that it can be opened for writing
        os.close(os.open(path, os.O_WRONLY))
        return
    with open(path, "w") as f:
        f.write(value)


def _rmdir(path: str) -> bool:
    try:
        os.rmdir(path)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return True


def _remove_tree(group: str) -> None:
    """Remove a cgroup and its (empty) children, deepest first; busy ones stay."""
    try:
        children = [e.path for e in os.scandir(group) if e.is_dir(follow_symlinks=False)]
    except OSError:
        return
    for child in children:
        _remove_tree(child)
    _rmdir(group)


def _kill_tree(group: str, wait: float = 1.0) -> None:
    """SIGKILL every process in `group` and its children; wait (briefly) until they are gone."""
    deadline = time.monotonic() + wait
    while True:
        pids = set()
        for directory, _, files in os.walk(group):
            if "cgroup.procs" in files:
                pids.update(int(p) for p in _read(os.path.join(directory, "cgroup.procs")).split())
        if not pids or time.monotonic() > deadline:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.02)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _env_int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default
