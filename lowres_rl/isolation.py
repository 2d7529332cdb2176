"""OS isolation for sandbox workers: what the machine allows, detected once.

Levels, strongest first:
  - `namespaces`: workers start under `unshare` in new network, PID, mount and IPC namespaces
    (no network, a fork bomb dies with its worker, /tmp private);
  - `none`: plain processes with resource limits only; said once, loudly, at start-up.

Always applied: a scrubbed environment (no secrets from the parent), a private working directory,
resource limits set by the worker itself (lowres_rl.worker), and a kill of the whole process group
at the deadline. `LOWRES_RL_REQUIRE_ISOLATION=1` makes a missing namespace layer an error.
"""
from __future__ import annotations

import functools
import logging
import os
import shutil
import subprocess
import sys
from typing import Callable

log = logging.getLogger(__name__)

KEEP_ENV = ("PATH", "LANG", "LC_ALL", "SWI_HOME_DIR", "SBCL_HOME", "LD_LIBRARY_PATH")
UNSHARE = ["unshare", "--net", "--pid", "--fork", "--kill-child", "--mount", "--ipc"]


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


@functools.cache
def level() -> str:
    """The isolation level this machine gives workers (detected once per process)."""
    if shutil.which("unshare") and _works(UNSHARE + ["true"]):
        return "namespaces"
    return "none"


def _works(command: list[str]) -> bool:
    try:
        return subprocess.run(command, capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@functools.cache
def wrapper() -> Callable[[str], list[str]]:
    """A function giving the command prefix that starts a worker inside the isolation layer."""
    found = level()
    if found == "none":
        message = ("sandbox workers run WITHOUT namespace isolation (no `unshare` permitted here): "
                   "programs can reach the network and write outside their directory")
        if os.environ.get("LOWRES_RL_REQUIRE_ISOLATION") == "1":
            raise IsolationError(message)
        log.warning(message)
        return lambda workdir: []
    log.info("sandbox isolation: %s", found)
    return lambda workdir: list(UNSHARE)
