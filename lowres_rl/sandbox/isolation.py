"""OS isolation for sandbox workers: what the machine allows, detected (and verified) once.

    python -m lowres_rl.run --info     # the level here, what it protects and what it does not

Every worker command is prefixed by `wrapper()(workdir)`; each `wrapper()` call (one per pool
start) logs the level, as a WARNING naming what is unprotected when it is not the full layer,
`bwrap+cgroup`. `LOWRES_RL_REQUIRE_ISOLATION=1` refuses (IsolationError) anything weaker.
`LOWRES_RL_ISOLATION=namespaces|none` caps the layer tried (the fallbacks of a machine without
bwrap or user namespaces; tested by forcing them), `LOWRES_RL_CGROUPS=0` leaves cgroups out.
Layers, strongest first; the first whose probe worker passes is used:

`bwrap` (bubblewrap). As root, bwrap mounts as root (no user namespace, so it works where those
are disabled) and `setpriv` then drops the worker to uid/gid 65534 with no groups, no
capabilities (bounding set emptied) and no_new_privs; as another user, bwrap maps sandbox uid
65534 to that user and disables further user namespaces.
  Protected:
  - privilege: programs never hold host uid 0 or any capability; setuid binaries grant nothing;
    /proc/sys, /sys (absent), /etc/shadow (absent) and other root-only files are out of reach;
  - files: only fsview's read-only view (/usr, ld.so.cache, the Python prefix, the site directories
    of the distributions a worker imports, the package and plugin directories) plus private,
    size-limited tmpfs mounts (the worker's directory, /tmp, /dev/shm); not the caller's current
    directory, home, /work, datasets, caches, /etc, /run or /var (host sockets). The import path
    is derived from where packages are installed, never from the caller's sys.path;
  - network: none (own network namespace: no loopback to the host, no abstract sockets);
  - processes: own PID, IPC, UTS and cgroup namespaces; the host's processes are invisible, and a
    worker's whole sandbox dies with the pool (--die-with-parent, its init in the PID namespace);
  - system calls (seccomp.py, x86_64): no new namespaces (so no user namespace to gain
    capabilities in), mounts, ptrace, bpf, keyrings, io_uring, modules: EPERM;
  - with `+cgroup` (cgroups.py): pids.max, a memory ceiling and one CPU per worker.
  Not protected:
  - what the view holds is readable: installed packages' files (a secret in site-packages);
  - the kernel: the system calls the filter leaves are its attack surface (a kernel exploit
    wins); on another architecture there is no filter, and as root a program may then create a
    user namespace of its own (said in the level's report);
  - processes of one worker share uid 65534 with those of every other worker: separate PID
    namespaces keep them from seeing or signalling each other, nothing else does;
  - other programs of the same worker: what one leaves there (lowres_rl.sandbox.worker, sandbox);
  - without `+cgroup`: a fork bomb is bounded only by the deadline, memory only per process.
`namespaces` (`unshare`): network, PID (own /proc), mount, IPC and UTS namespaces.
  Protected: the network; the host's processes. Not protected: files and privilege — programs
  run as the caller (as root: host root), read and write whatever it may: /proc/sys, /etc/shadow,
  datasets, homes.
`none`: plain processes with the worker's rlimits. Nothing beyond them is protected: network,
  files, privilege, processes.
Every level: a scrubbed environment (worker_environment), a private working directory, the
worker's rlimits and a kill of its process group at the deadline (lowres_rl.sandbox.worker, sandbox).

Cost: the layer is a command prefix, paid once per worker start (bwrap's mounts and setpriv), nothing
per program. Detection: one probe worker and fsview's scan of the installed distributions, once
per process. Measured: benchmarks/README.md, "Costs behind design choices".
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

import lowres_rl.sandbox.fsview as fsview
import lowres_rl.sandbox.seccomp as seccomp
from lowres_rl.sandbox.cgroups import Cgroups, task_counter

log = logging.getLogger(__name__)

KEEP_ENV = ("PATH", "LANG", "LC_ALL", "SWI_HOME_DIR", "SBCL_HOME", "LD_LIBRARY_PATH")
UNSHARE = ["unshare", "--net", "--pid", "--fork", "--kill-child", "--mount", "--ipc", "--uts", "--mount-proc"]
FULL = "bwrap+cgroup"        # the full layer: LOWRES_RL_REQUIRE_ISOLATION=1 accepts nothing else

SANDBOX_UID = 65534          # nobody: the uid (and gid) programs run as
WORKDIR_TMPFS = 64 << 20     # bytes: the worker's directory (captures, program files)
TMP_TMPFS = 32 << 20         # bytes: private /tmp
SHM_TMPFS = 16 << 20         # bytes: private /dev/shm
DROP = ["setpriv", f"--reuid={SANDBOX_UID}", f"--regid={SANDBOX_UID}", "--clear-groups",
        "--no-new-privs", "--bounding-set=-all", "--inh-caps=-all", "--"]

PROTECTED = {
    "bwrap": ["privilege: never host uid 0, no capabilities, no_new_privs; /proc/sys not writable",
              "files: a read-only view of the interpreters, Python and the package only; not the "
              "caller's cwd, home, /work, datasets, /etc, /run; writes only to private tmpfs mounts",
              "network: none", "processes: own PID namespace, the host's invisible"],
    "namespaces": ["network: none", "processes: own PID namespace, the host's invisible"],
    "none": [],
}
NOT_PROTECTED = {
    "bwrap": ["the kernel: the system calls the seccomp filter leaves (most of them) are its attack surface",
              "files inside the view (installed packages) are readable"],
    "namespaces": ["files: programs read and write whatever the caller may (as root: everything, "
                   "/proc/sys, /etc/shadow, datasets, homes)", "privilege: programs run as the caller's uid"],
    "none": ["network", "files: whatever the caller may read and write", "privilege: the caller's uid",
             "processes: the host's are visible and can be signalled"],
}
NO_SECCOMP = ("the kernel: no seccomp filter (no table for this architecture); as root, programs may "
              "create user namespaces")
NO_CGROUP = "no per-worker cgroup: a fork bomb is bounded only by the deadline, memory only per process"

_PIDNS = False  # set once the chosen layer gives workers their own PID namespace


class IsolationError(RuntimeError):
    """Isolation was required (LOWRES_RL_REQUIRE_ISOLATION=1) but the machine does not allow it."""


def worker_environment(workdir: str) -> dict[str, str]:
    """The whole environment a worker sees: a few locale and tool paths, nothing secret, and an
    import path derived from where lowres_rl and its plugins are installed (fsview)."""
    env = {key: os.environ[key] for key in KEEP_ENV if key in os.environ}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    env.setdefault("LANG", "C.UTF-8")
    env.update(HOME=workdir, TMPDIR=workdir, PYTHONPATH=os.pathsep.join(fsview.view().python_path),
               PYTHONDONTWRITEBYTECODE="1", PYTHONUNBUFFERED="1", PYTHONNOUSERSITE="1")
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
        for variant, prefix in _bwrap_variants():
            layer = _Layer("bwrap", prefix, cgroups, notes)
            if _verify(layer, notes, variant, strict=True):
                return layer
    elif ceiling == "bwrap":
        notes.append("bwrap is not installed (apt-get install bubblewrap)")
    if ceiling == "bwrap" and os.geteuid() == 0 and not shutil.which("setpriv"):
        notes.append("setpriv is not installed (util-linux): as root, bwrap would leave programs host root")
    if ceiling in ("bwrap", "namespaces") and shutil.which("unshare"):
        command = UNSHARE if os.geteuid() == 0 else [UNSHARE[0], "--user", "--map-root-user", *UNSHARE[1:]]
        layer = _Layer("namespaces", lambda workdir: list(command), cgroups, notes)
        if _verify(layer, notes, "unshare", strict=False):
            return layer
    if cgroups is not None:
        cgroups.remove_all()
    return _Layer("none", lambda workdir: [], None, notes)


def level() -> str:
    """The isolation level this machine gives workers (detected once per process):
    `bwrap`, `namespaces` or `none`, with `+cgroup` when per-worker cgroups apply."""
    return _layer().level


def report() -> dict[str, object]:
    """The level, what it protects, what it does not, and why it is not stronger (notes)."""
    layer = _layer()
    protected, unprotected = list(PROTECTED[layer.name]), list(NOT_PROTECTED[layer.name])
    if layer.name == "bwrap" and _filter_file():
        protected.append("system calls: no namespaces, mounts, ptrace, bpf, keyrings, io_uring, modules "
                         "(seccomp, EPERM)")
    elif layer.name == "bwrap":
        unprotected[0] = NO_SECCOMP
    if layer.cgroups and layer.name != "none":
        protected.append(f"resources: per-worker cgroup ({layer.cgroups.summary()})")
    elif layer.name != "none":
        unprotected.append(NO_CGROUP)
    return {"isolation": layer.level, "protected": protected, "not_protected": unprotected,
            "notes": list(layer.notes)}


def describe() -> str:
    """One line for logs: the level, what it leaves unprotected, and why it is not stronger."""
    facts = report()
    line = f"{facts['isolation']}; NOT protected: {'; '.join(facts['not_protected'])}"  # type: ignore[arg-type]
    return line + (f" [{'; '.join(facts['notes'])}]" if facts["notes"] else "")  # type: ignore[arg-type]


def announce() -> None:
    """Log the level (a WARNING when weaker than the full layer); with
    LOWRES_RL_REQUIRE_ISOLATION=1, raise IsolationError instead when it is weaker."""
    layer = _layer()
    if layer.level == FULL:
        log.info("sandbox isolation: %s", describe())
        return
    message = f"sandbox isolation is weaker than {FULL}: {describe()}"
    if os.environ.get("LOWRES_RL_REQUIRE_ISOLATION") == "1":
        raise IsolationError(message + " (LOWRES_RL_REQUIRE_ISOLATION=1 refuses it)")
    log.warning(message)


def wrapper() -> Callable[[str], list[str]]:
    """A function giving the command prefix that starts a worker inside the isolation layer
    (called at every pool start, which it announces; the pool calls the result with each
    worker's fresh directory, just before it spawns the worker)."""
    announce()
    layer = _layer()
    if layer.cgroups is None:
        return layer.prefix
    cgroups = layer.cgroups

    def prefix(workdir: str) -> list[str]:
        return cgroups.enter(workdir) + layer.prefix(workdir)
    return prefix


def _verify(layer: _Layer, notes: list[str], variant: str, strict: bool) -> bool:
    """Start a probe worker inside `layer`: it must import the worker module and write to its own
    directory and, when `strict`, fail to open /proc/sys for writing and to write to the caller's
    temporary and home directories (checked from here)."""
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
    privileged = strict and report.get("sysctl") is not False
    if report.get("import") is True and report.get("cwd") is True and not (strict and escaped) and not privileged:
        return True
    why = (f"wrote outside its directory: {escaped}" if escaped else
           report.get("error") or (report.get("import") is not True and report.get("import")) or
           (privileged and report.get("import") is True and "/proc/sys is writable") or
           (done.stderr.decode(errors="replace").strip()[-300:] if done is not None else "failed"))
    notes.append(f"{layer.name} ({variant}) unusable: {why}")
    log.info("sandbox isolation: %s (%s) rejected: %s", layer.name, variant, why)
    return False


_PROBE = """
import json, os, sys
report = {"sysctl": os.access("/proc/sys/vm/swappiness", os.W_OK)}
try:
    import lowres_rl.sandbox.worker
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

def _bwrap_variants() -> list[tuple[str, Callable[[str], list[str]]]]:
    """The ways to run bwrap here that keep programs off host uid 0, best first. As root:
    bwrap mounting as root, then setpriv to 65534 (needs no user namespaces); else setpriv to
    65534 first and bwrap in a user namespace (only where 65534 can read the Python prefix and the
    package). As another user: bwrap in a user namespace, mapped to that user."""
    path = _filter_file()
    # bwrap reads the filter from an inherited descriptor: a shell opens it as fd 3 (the pool
    # closes every other descriptor when it spawns a worker)
    opener, filtering = (["/bin/sh", "-c", 'exec "$@" 3<"$0"', path], ["--seccomp", "3"]) if path else ([], [])
    if os.geteuid() != 0:
        return [("user namespace", lambda workdir: [*opener, *_bwrap_userns(workdir, filtering)])]
    if not shutil.which("setpriv"):
        log.info("sandbox isolation: no setpriv (util-linux): bwrap would leave programs host root")
        return []
    return [("as root, then setpriv", lambda workdir: [*opener, *_bwrap_root(workdir, filtering)]),
            ("setpriv, then a user namespace", lambda workdir: [*opener, *DROP, *_bwrap_userns(workdir, filtering)])]


def _bwrap_root(workdir: str, filtering: list[str]) -> list[str]:
    return ["bwrap", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            "--hostname", "sandbox", "--die-with-parent", "--cap-drop", "ALL",
            "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add", "CAP_SETPCAP",  # for setpriv only
            *filtering, *_mounts(workdir, fsview.view()), *DROP]


def _bwrap_userns(workdir: str, filtering: list[str]) -> list[str]:
    return ["bwrap", "--unshare-all", "--unshare-user", "--disable-userns", "--cap-drop", "ALL",
            "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--hostname", "sandbox",
            "--die-with-parent", *filtering, *_mounts(workdir, fsview.view()), "--"]


@functools.cache
def _filter_file() -> str | None:
    """The seccomp filter, written once per process to a private (0700) directory; None where
    lowres_rl.sandbox.seccomp has no table for this architecture."""
    data = seccomp.program()
    if data is None:
        return None
    directory = tempfile.mkdtemp(prefix="lowres-seccomp-")
    atexit.register(shutil.rmtree, directory, True)
    path = os.path.join(directory, "filter.bpf")
    with open(path, "wb") as f:
        f.write(data)
    return path


def _mounts(workdir: str, view: fsview.View) -> list[str]:
    """The worker's filesystem: fsview's read-only view on an empty root, a fresh /proc and /dev,
    private size-limited tmpfs mounts on /tmp, /dev/shm and the worker's own directory (at its
    host path, so its cwd is unchanged), directories above them traversable (0755)."""
    command = ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--size", str(SHM_TMPFS), "--tmpfs", "/dev/shm",
               "--perms", "1777", "--size", str(TMP_TMPFS), "--tmpfs", "/tmp"]
    for directory in view.dirs():
        command += ["--perms", "0755", "--dir", directory]
    for path in view.binds:
        command += ["--ro-bind", path, path]
    for target, link in view.links:
        command += ["--symlink", target, link]
    counter = task_counter(workdir)  # the worker counts its tasks there (lowres_rl.sandbox.workspace)
    if counter:
        for directory in reversed([str(d) for d in Path(counter).parents][:-1]):  # top down, not /
            command += ["--perms", "0755", "--dir", directory]
        command += ["--ro-bind-try", counter, counter]
    parent = os.path.dirname(workdir.rstrip("/"))
    if parent not in ("/", "/tmp"):  # mkdtemp's usual place is /tmp; TMPDIR may put it elsewhere
        command += ["--perms", "0755", "--dir", parent]
    command += ["--perms", "0777", "--size", str(WORKDIR_TMPFS), "--tmpfs", workdir, "--chdir", workdir,
                "--remount-ro", "/dev", "--remount-ro", "/"]
    return command
