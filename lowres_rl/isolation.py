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
create child groups: each worker then runs in its own cgroup with pids.max (cgroups.PIDS_MAX), a memory
ceiling for the worker and everything it starts (cgroups.WORKER_MEMORY_MB, env LOWRES_RL_WORKER_MEMORY_MB)
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
  - privilege: as root, `bwrap --unshare-all` alone leaves the sandbox every capability in its new
    user namespace, enough to `mount -o remount,rw /` and write anywhere (verified here); hence
    --cap-drop ALL and --disable-userns, and the hostile tests try exactly that;
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
  - without `+cgroup`, memory is bounded per process only (RLIMIT_AS), not per sandbox;
  - what a program leaves in its worker: background processes and threads run on into the next
    programs of that worker until it is killed (deadline, death, recycling) — unless the worker
    checks after each program (LOWRES_RL_PIDNS=1 tells it that every process it sees besides itself,
    init and its interpreter's helpers is a leftover); files in its directory stay too;
  - in-process tampering: a Hy program runs inside the worker's Python and a Lisp program inside
    the harness's SBCL, so either can redefine how later programs in that process are answered
    (tests/test_hostile.py marks this as a known failure). Only a process per program fixes that.
Language-level guards come on top: Prolog programs pass interpreters/prolog/guard.pl (shell,
process_create, open, halt, ... refused before anything runs); the SBCL harness refuses symbols of
other packages (but `(intern "RUN-PROGRAM" "SB-EXT")` is invisible to it: only this layer contains
that); Hy has no guard of its own: this layer is the guard.

Start-up cost (measured on the 2-core dev VM, busy: medians of 11, spawn to `ready`): running
`true` costs 0.6 ms plain, 2.3 ms under unshare, 6.5 ms under bwrap, 7 ms with the cgroup shell
step; a whole worker start is 170/215/220/270-300 ms (Prolog: plain/unshare/bwrap/bwrap+cgroup),
100/170/170/135-140 ms (Hy), ~120 ms for all (Lisp; SBCL itself starts later): tens of
milliseconds on top of importing the interpreter, much of it noise (load average ~4 during the
measurement). Detection runs one probe worker (~0.15 s) once per process.

Environment: `LOWRES_RL_REQUIRE_ISOLATION=1` (missing namespaces: error), `LOWRES_RL_ISOLATION=
namespaces|none` (cap the layer tried: to test the fallbacks, or where bwrap misbehaves),
`LOWRES_RL_CGROUPS=0` (no cgroups), `LOWRES_RL_WORKER_MEMORY_MB` (the per-worker memory ceiling).
"""
from __future__ import annotations

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

from lowres_rl.cgroups import Cgroups

log = logging.getLogger(__name__)

KEEP_ENV = ("PATH", "LANG", "LC_ALL", "SWI_HOME_DIR", "SBCL_HOME", "LD_LIBRARY_PATH")
UNSHARE = ["unshare", "--net", "--pid", "--fork", "--kill-child", "--mount", "--ipc", "--uts", "--mount-proc"]

SANDBOX_UID = 65534          # the uid (and gid) programs see inside bwrap
WORKDIR_TMPFS = 64 << 20     # bytes: the worker's directory (captures, program files)
TMP_TMPFS = 32 << 20         # bytes: private /tmp
SHM_TMPFS = 16 << 20         # bytes: private /dev/shm
HIDDEN = ("/root", "/home")  # hidden like the caller's home (re-binding what the worker needs)


_PIDNS = False  # set once the chosen layer gives workers their own PID namespace


class IsolationError(RuntimeError):
    """Isolation was required (LOWRES_RL_REQUIRE_ISOLATION=1) but the machine does not allow it."""


def worker_environment(workdir: str) -> dict[str, str]:
    """The whole environment a worker sees: a few locale and tool paths, nothing secret."""
    env = {key: os.environ[key] for key in KEEP_ENV if key in os.environ}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    env.setdefault("LANG", "C.UTF-8")
    env.update(HOME=workdir, TMPDIR=workdir, PYTHONPATH=os.pathsep.join(p for p in sys.path if p),
               PYTHONDONTWRITEBYTECODE="1", PYTHONUNBUFFERED="1")
    if _PIDNS:  # the worker may then treat every other process it sees as a program's leftover
        env["LOWRES_RL_PIDNS"] = "1"
    return env


# -- detection ---------------------------------------------------------------------------------

@dataclass
class _Layer:
    name: str                                   # bwrap, namespaces, none
    prefix: Callable[[str], list[str]]          # workdir -> command prefix (namespaces only)
    cgroups: "Cgroups | None" = None
    notes: list[str] = field(default_factory=list)

    @property
    def level(self) -> str:
        return self.name + ("+cgroup" if self.cgroups and self.name != "none" else "")


_chosen: _Layer | None = None
_choosing = threading.Lock()


def _layer() -> _Layer:
    """The layer for this process: detected by the first caller, while any other waits."""
    global _chosen, _PIDNS
    with _choosing:
        if _chosen is None:
            _chosen = _detect()
            _PIDNS = _chosen.name in ("bwrap", "namespaces")
        return _chosen


def _detect() -> _Layer:
    notes: list[str] = []
    ceiling = os.environ.get("LOWRES_RL_ISOLATION", "bwrap")  # the strongest layer to try
    if ceiling not in ("bwrap", "namespaces", "none"):
        notes.append(f"LOWRES_RL_ISOLATION={ceiling!r} is not bwrap, namespaces or none: ignored")
        ceiling = "bwrap"
    if ceiling != "bwrap":
        notes.append(f"LOWRES_RL_ISOLATION={ceiling}")
    cgroups = Cgroups.create(notes) if ceiling != "none" else None
    if ceiling == "bwrap" and shutil.which("bwrap"):
        try:
            hidden = _hidden_dirs()
        except OSError as exc:
            notes.append(f"bwrap unusable: {exc}")
        else:
            layer = _Layer("bwrap", lambda workdir: _bwrap(workdir, hidden), cgroups, notes)
            if _verify(layer, notes, strict=True):
                return layer
    if ceiling in ("bwrap", "namespaces") and shutil.which("unshare"):
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
    needed = _needed_paths(["/tmp", *homes])
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


def _needed_paths(hidden: list[str]) -> set[str]:
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
        if not any(_under(os.path.realpath(directory or "."), h) for h in hidden):
            continue
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
