"""Starting and killing sandbox workers' processes (lowres_rl.sandbox.pool's two system calls).

    proc = spawn(command, stdin=subprocess.PIPE, start_new_session=True, ...)   # subprocess.Popen
    kill(proc, workdir)   # the whole process group and cgroup, reaped; its directory removed
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import lowres_rl.sandbox.cgroups as cgroups

# Every worker is started from this one long-lived thread. A sandbox layer may tie the worker's
# life to its parent (bwrap --die-with-parent, i.e. PR_SET_PDEATHSIG), and Linux counts the
# *thread* that forked as the parent: a worker started from a short-lived thread (a grader's
# per-language thread, an async reward function) would be killed when that thread ends.
_SPAWNER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lowres-spawner")


def spawn(command: list[str], **popen: Any) -> subprocess.Popen:
    """subprocess.Popen(command, **popen), forked from the long-lived spawner thread."""
    return _SPAWNER.submit(subprocess.Popen, command, **popen).result()


def kill(proc: subprocess.Popen, workdir: str) -> None:
    """Kill the worker's whole process group and what left it but not its cgroup (setsid), close
    its pipes, reap it and remove its directory."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    cgroups.kill_worker(workdir)
    for stream in (proc.stdin, proc.stdout):
        try:
            stream.close()  # type: ignore[union-attr]
        except OSError:
            pass
    proc.wait()
    shutil.rmtree(workdir, ignore_errors=True)
