"""OS isolation for sandbox workers: what the machine allows, detected (and verified) once.

Every worker command is prefixed by `wrapper()(workdir)`. Layers, strongest first; the first that
works here is used, and it is logged once at start-up and shown by `python -m lowres_rl.run --info`:

  `bwrap`       bubblewrap: new user, PID, network, IPC, UTS and cgroup namespaces, all
                capabilities dropped, no further user namespaces (--disable-userns), sandbox uid
                65534, the whole filesystem read-only, a private size-limited tmpfs on /tmp,
                /dev/shm and on the worker's own directory (at the same path, so its cwd is
                unchanged), a fresh /proc showing only the sandbox's processes, and the
                caller's home directory (plus /root and /home) hidden behind an empty read-only
                tmpfs into which only what the worker needs (the Python prefix, sys.path, PATH
                entries, the package) is bound back, read-only. --die-with-parent: the sandbox
                dies with the pool's process.
  `namespaces`  `unshare`: new network, PID (with its own /proc), mount, IPC and UTS namespaces.
                No network, and a fork bomb dies with its worker — but the filesystem stays
                writable wherever the worker's user may write (as root: everywhere).
  `none`        plain processes with resource limits only; said once, loudly, at start-up.

`+cgroup` is added to the level where a writable cgroup hierarchy (v1 or v2) lets this process
create child groups: each worker then runs in its own cgroup with pids.max (PIDS_MAX), a memory
ceiling for the worker and everything it starts (WORKER_MEMORY_MB, env LOWRES_RL_WORKER_MEMORY_MB)
and a CPU quota of one core. Removed once the worker's directory is gone (swept at the next spawn
and at exit).

Always applied (every level): a scrubbed environment (worker_environment: no secrets from the
parent), a private working directory, the worker's own rlimits (lowres_rl.worker: address space,
file size, open files, no core dumps), and a kill of the worker's whole process group at the wall
deadline (lowres_rl.sandbox). `LOWRES_RL_REQUIRE_ISOLATION=1` makes a missing namespace layer an
error (IsolationError) instead of a warning.

Protected, at level `bwrap` (verified at detection by running a probe worker inside the layer):
  - network: none at all (a private loopback only; no route to the host's 127.0.0.1);
  - writes: only into the worker's own directory and private tmpfs mounts (/tmp, /dev/shm), all
    size-limited and invisible to the host; everything else is read-only (EROFS), remounting is
    impossible (no capabilities; no new user namespace to gain them in);
  - the parent: invisible (own PID namespace and /proc), so it cannot be signalled, traced or have
    its environment (/proc/PID/environ) read; the worker's environment holds no secret;
  - runaway processes: killing the worker's process group kills the sandbox's init, and with it
    every process in the PID namespace (setsid() does not escape); with `+cgroup`, pids.max bounds
    a fork bomb while it lives, the memory ceiling bounds the total of all its processes (tmpfs
    pages included), and one core is the most it can take from the other workers;
  - secrets in files under the caller's home, /root and /home: hidden.
Not protected at level `bwrap`:
  - reading the rest of the filesystem (read-only, but readable: /etc, /usr, /work, ...), and the
    sandbox's kernel uid is still the caller's (root stays root to the kernel, without
    capabilities): files the caller may read, the program may read, outside the hidden homes;
  - the kernel itself (no seccomp filter): a kernel exploit is out of scope;
  - RLIMIT_NPROC: not enforced for kernel uid 0 (measured here: 60 of 60 forks under a limit of
    20, inside bwrap with sandbox uid 65534 mapped to root); only cgroup pids.max bounds a fork bomb
    as root, and without `+cgroup` it is bounded only by the deadline (timeout + 0.5 s) — it may
    exhaust the machine's PIDs for that long;
  - CPU: bounded by the wall-clock kill (and one core per worker with `+cgroup`); no RLIMIT_CPU,
    since a worker serves many programs and the deadline is the per-program bound;
  - without `+cgroup`, memory is bounded per process only (RLIMIT_AS), not per sandbox.
Language-level guards come on top: Prolog programs pass interpreters/prolog/guard.pl (shell,
process_create, open, halt, ... refused before anything runs); the SBCL harness refuses symbols of
other packages (but `(intern "RUN-PROGRAM" "SB-EXT")` is invisible to it: only this layer contains
that); Hy has no guard of its own: this layer is the guard.

Start-up cost (measured on a 2-core VM): bwrap adds about 6 ms per worker start (`true`: 0.6 ms
plain, 2.3 ms under unshare, 6.5 ms under bwrap, 7 ms with the cgroup shell step), against
0.3-0.6 s for a worker to import its interpreter; detection runs one probe worker (~0.2 s) once
per process.
"""
from __future__ import annotations

import atexit
import functools
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

log = logging.getLogger(__name__)

KEEP_ENV = ("PATH", "LANG", "LC_ALL", "SWI_HOME_DIR", "SBCL_HOME", "LD_LIBRARY_PATH")
UNSHARE = ["unshare", "--net", "--pid", "--fork", "--kill-child", "--mount", "--ipc", "--uts", "--mount-proc"]

SANDBOX_UID = 65534          # the uid (and gid) programs see inside bwrap
WORKDIR_TMPFS = 64 << 20     # bytes: the worker's directory (captures, program files)
TMP_TMPFS = 32 << 20         # bytes: private /tmp
SHM_TMPFS = 16 << 20         # bytes: private /dev/shm
PIDS_MAX = 128               # processes and threads per worker sandbox (cgroup)
WORKER_MEMORY_MB = 5120      # per worker sandbox, all its processes and tmpfs pages (cgroup)
HIDDEN = ("/root", "/home")  # hidden like the caller's home (re-binding what the worker needs)


class IsolationError(RuntimeError):
    """Isolation was required (LOWRES_RL_REQUIRE_ISOLATION=1) but the machine does not allow it."""


def worker_environment(workdir: str) -> dict[str, str]:
    """The whole environment a worker sees: a few locale and tool paths, nothing secret."""
    env = {key: os.environ[key] for key in KEEP_ENV if key in os.environ}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    env.setdefault("LANG", "C.UTF-8")
    env.update(HOME=workdir, TMPDIR=workdir, PYTHONPATH=os.pathsep.join(p for p in sys.path if p),
               PYTHONDONTWRITEBYTECODE="1", PYTHONUNBUFFERED="1")
    return env


# -- detection ---------------------------------------------------------------------------------

@dataclass
class _Layer:
    name: str                                   # bwrap, namespaces, none
    prefix: Callable[[str], list[str]]          # workdir -> command prefix (namespaces only)
    cgroups: "_Cgroups | None" = None
    notes: list[str] = field(default_factory=list)

    @property
    def level(self) -> str:
        return self.name + ("+cgroup" if self.cgroups and self.name != "none" else "")


@functools.cache
def _layer() -> _Layer:
    notes: list[str] = []
    cgroups = _Cgroups.create(notes)
    if shutil.which("bwrap"):
        try:
            hidden = _hidden_dirs()
        except OSError as exc:
            notes.append(f"bwrap unusable: {exc}")
        else:
            layer = _Layer("bwrap", lambda workdir: _bwrap(workdir, hidden), cgroups, notes)
            if _verify(layer, notes, strict=True):
                return layer
    if shutil.which("unshare"):
        command = UNSHARE if os.geteuid() == 0 else [UNSHARE[0], "--user", "--map-root-user", *UNSHARE[1:]]
        layer = _Layer("namespaces", lambda workdir: list(command), cgroups, notes)
        if _verify(layer, notes, strict=False):
            return layer
    if cgroups is not None:
        cgroups.remove_all()
    return _Layer("none", lambda workdir: [], None, notes)


def level() -> str:
    """The isolation level this machine gives workers (detected once per process):
    `bwrap`, `namespaces` or `none`, with `+cgroup` when per-worker cgroups apply."""
    return _layer().level


def describe() -> str:
    """One line for logs: the level and what it means here."""
    layer = _layer()
    what = {
        "bwrap": "no network, read-only filesystem except the worker's own directory, private /tmp, "
                 "own PID namespace, homes hidden, no capabilities",
        "namespaces": "no network, own PID namespace and /proc; the filesystem is NOT protected",
        "none": "NO namespace isolation: programs can reach the network and write outside their directory",
    }[layer.name]
    if layer.cgroups and layer.name != "none":
        what += f"; per-worker cgroup: {layer.cgroups.summary()}"
    elif layer.name != "none":
        what += "; no writable cgroups: a fork bomb is bounded only by the deadline"
    return f"{layer.level} ({what})" + (f" [{'; '.join(layer.notes)}]" if layer.notes else "")


@functools.cache
def wrapper() -> Callable[[str], list[str]]:
    """A function giving the command prefix that starts a worker inside the isolation layer
    (called by the pool with the worker's fresh directory, just before it spawns the worker)."""
    layer = _layer()
    if layer.name == "none":
        message = "sandbox isolation: " + describe()
        if os.environ.get("LOWRES_RL_REQUIRE_ISOLATION") == "1":
            raise IsolationError(message)
        log.warning(message)
        return lambda workdir: []
    log.info("sandbox isolation: %s", describe())
    if layer.cgroups is None:
        return layer.prefix
    cgroups = layer.cgroups

    def prefix(workdir: str) -> list[str]:
        return cgroups.enter(workdir) + layer.prefix(workdir)
    return prefix


def _verify(layer: _Layer, notes: list[str], strict: bool) -> bool:
    """Start a probe worker inside `layer`: it must import the worker module and, when `strict`,
    fail to write to the caller's temporary and home directories (checked from here)."""
    workdir = tempfile.mkdtemp(prefix="lowres-probe-")
    marker = f"lowres-probe-{uuid.uuid4().hex}"
    targets = [os.path.join(tempfile.gettempdir(), marker), os.path.join(os.path.expanduser("~"), marker)]
    command = [*(layer.cgroups.enter(workdir) if layer.cgroups else []), *layer.prefix(workdir),
               sys.executable, "-c", _PROBE, *targets]
    try:
        done = subprocess.run(command, cwd=workdir, env=worker_environment(workdir), capture_output=True,
                              timeout=60, start_new_session=True)
        report = json.loads(done.stdout.decode() or "{}") if done.returncode == 0 else {}
    except (OSError, subprocess.TimeoutExpired, ValueError) as exc:
        done, report = None, {"error": str(exc)}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if layer.cgroups:
            layer.cgroups.sweep()
    escaped = [t for t in targets if os.path.lexists(t)]
    for target in escaped:
        os.unlink(target)
    if report.get("import") is True and report.get("cwd") is True and not (strict and escaped):
        return True
    why = (f"wrote outside its directory: {escaped}" if escaped else
           report.get("error") or report.get("import") or
           (done.stderr.decode(errors="replace").strip()[-300:] if done is not None else "failed"))
    notes.append(f"{layer.name} unusable: {why}")
    log.info("sandbox isolation: %s layer rejected: %s", layer.name, why)
    return False


_PROBE = """
import json, os, sys
report = {}
try:
    import lowres_rl.worker
    report["import"] = True
except BaseException as exc:
    report["import"] = f"{type(exc).__name__}: {exc}"
try:
    with open("probe.txt", "w") as f:
        f.write("ok")
    report["cwd"] = True
except OSError as exc:
    report["cwd"] = str(exc)
for target in sys.argv[1:]:
    try:
        open(target, "w").close()
    except OSError:
        pass
print(json.dumps(report))
"""


# -- bubblewrap ---------------------------------------------------------------------------------

def _bwrap(workdir: str, hidden: list[tuple[str, list[str]]]) -> list[str]:
    command = [
        "bwrap", "--unshare-all", "--unshare-user", "--disable-userns", "--cap-drop", "ALL",
        "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--hostname", "sandbox",
        "--die-with-parent",
        "--ro-bind", "/", "/",
        "--dev", "/dev", "--size", str(SHM_TMPFS), "--tmpfs", "/dev/shm", "--remount-ro", "/dev",
        "--proc", "/proc",
    ]
    for directory, keep in hidden:  # /tmp first (writable), then the homes (read-only at the end)
        if directory == "/tmp":
            command += ["--size", str(TMP_TMPFS)]
        command += ["--tmpfs", directory]
        for path in keep:
            command += ["--ro-bind-try", path, path]
    command += ["--size", str(WORKDIR_TMPFS), "--tmpfs", workdir, "--chdir", workdir]
    for directory, _ in hidden:
        if directory != "/tmp":
            command += ["--remount-ro", directory]
    return [*command, "--"]


def _hidden_dirs() -> list[tuple[str, list[str]]]:
    """Directories to hide: /tmp (a private tmpfs instead), the caller's home, /root and /home
    (an empty read-only tmpfs instead), each with the paths under it that a worker needs bound
    back read-only: Python's prefixes and sys.path, the package, PATH and tool paths."""
    home = os.path.realpath(os.path.expanduser("~"))
    candidates = sorted({os.path.realpath(d) for d in (home, *HIDDEN) if os.path.isdir(d)} - {"/"})
    homes = [d for d in candidates if not any(_under(d, other) for other in candidates if other != d)]
    needed = _needed_paths()
    result = []
    for directory in ["/tmp", *(d for d in homes if not _under(d, "/tmp"))]:
        keep = sorted({p for p in needed if _under(p, directory)})
        if directory in keep:
            if directory == "/tmp":
                raise OSError("the worker needs all of /tmp")
            continue  # the worker needs all of it: hiding it would break the worker
        keep = [p for p in keep if not any(_under(p, q) and p != q for q in keep)]
        result.append((directory, keep))
    return result


def _needed_paths() -> set[str]:
    paths = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.executable,
             os.path.dirname(os.path.dirname(os.path.realpath(sys.executable))), *sys.path]
    try:
        from importlib.resources import files

        import lowres_rl
        paths.append(str(Path(lowres_rl.__file__).resolve().parent))
        for package in ("lowres_rl.interpreters", "lowres_rl.prompts"):
            paths.append(str(files(package)))
    except Exception:  # noqa: BLE001 - best effort: the probe worker tells whether it suffices
        pass
    for key in ("PATH", "LD_LIBRARY_PATH", "SWI_HOME_DIR", "SBCL_HOME"):
        paths += os.environ.get(key, "").split(os.pathsep)
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        try:
            links = [e.path for e in os.scandir(directory) if e.is_symlink()]
        except OSError:
            continue
        for link in links:  # ~/.local/bin/tool -> ~/tool-1.2/bin/tool: keep ~/tool-1.2
            paths.append(os.path.dirname(os.path.dirname(os.path.realpath(link))))
    found = set()
    for path in paths:
        if path and os.path.isabs(path) and os.path.exists(path):
            found.add(os.path.abspath(path))
            found.add(os.path.realpath(path))
    return found


def _under(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip("/") + "/")


# -- cgroups ------------------------------------------------------------------------------------

_ENTER = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"'


class _Cgroups:
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
    def create(cls, notes: list[str]) -> "_Cgroups | None":
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
    def _v1(cls) -> "_Cgroups | None":
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
    def _v2(cls) -> "_Cgroups | None":
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
                if left:
                    self._live[workdir] = left
                else:
                    del self._live[workdir]

    def remove_all(self) -> None:
        with self._lock:
            self._live.clear()
        for parent in self.parents.values():
            _remove_tree(parent)

    def _at_exit(self) -> None:
        # Runs before lowres_rl.sandbox's own exit hook (registered earlier): close the pools
        # first, so that the workers are dead and their groups empty.
        sandbox = sys.modules.get("lowres_rl.sandbox")
        if sandbox is not None:
            try:
                sandbox._close_all()
            except Exception:  # noqa: BLE001
                pass
        self.remove_all()

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
