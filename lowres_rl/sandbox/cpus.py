"""How many sandbox workers a pool starts by default: this rank's share of the CPUs it may use.

    pool_size(None)   # the CPUs this process may run on, divided among the node's local ranks
    pool_size(4)      # --workers 4: exactly that

`os.cpu_count()` counts the machine's cores: it ignores CPU affinity (taskset, cpusets, a
launcher's pinning) and container quotas (cgroup `cpu.max`, `cpu.cfs_quota_us`), and under
torchrun every one of 8 ranks on a node would start one worker per core per language (8 x 96 SBCL
workers at ~130 MB each is ~100 GB). Here the usable CPUs are the smaller of the affinity mask and
the cgroup quota (the tightest of this process's group and its ancestors), divided by
LOCAL_WORLD_SIZE (set by torchrun and accelerate launch; the MPI launchers' local sizes too), at
least 1. Where the launcher already pinned each rank to its own CPUs (ACCELERATE_CPU_AFFINITY=1)
the mask is this rank's share already and is not divided again. The choice is logged once per
process.
"""
from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

LOCAL_SIZE_VARIABLES = ("LOCAL_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS",
                        "MV2_COMM_WORLD_LOCAL_SIZE")
_logged: set[int] = set()


@dataclass(frozen=True)
class Share:
    """This rank's share of the node's CPUs, and where the figure came from."""

    affinity: int          # CPUs in this process's affinity mask
    quota: float | None    # CPUs the cgroup quota allows (None: no quota)
    local_ranks: int       # processes of this job on this node
    pinned: bool           # the launcher pinned each rank: the mask is already this rank's share

    @property
    def workers(self) -> int:
        usable = self.affinity if self.quota is None else min(self.affinity, max(1, math.floor(self.quota)))
        return max(1, usable if self.pinned else usable // self.local_ranks)

    def describe(self) -> str:
        quota = "none" if self.quota is None else f"{self.quota:g} CPUs"
        split = "pinned per rank" if self.pinned else f"/ {self.local_ranks} local rank(s)"
        return f"affinity {self.affinity} CPUs, cgroup quota {quota}, {split}"


def pool_size(workers: int | None = None) -> int:
    """Workers per language pool: `workers` if given (--workers), else this rank's CPU share."""
    if workers:
        size, why = workers, "set by --workers"
    else:
        share = node_share()
        size, why = share.workers, share.describe()
    if size not in _logged:  # one line per process (per distinct size), not one per pool
        _logged.add(size)
        log.info("rank %s: %d sandbox worker(s) per language (%s)", os.environ.get("RANK", "0"), size, why)
    return size


def node_share() -> Share:
    """Read the affinity mask, the cgroup quota and the launcher's local size now."""
    return Share(affinity=len(os.sched_getaffinity(0)), quota=cgroup_quota(), local_ranks=local_world_size(),
                 pinned=os.environ.get("ACCELERATE_CPU_AFFINITY", "0").lower() in ("1", "true", "yes"))


def local_world_size() -> int:
    """Processes of this job on this node, from the launcher's environment (1 when not launched)."""
    for name in LOCAL_SIZE_VARIABLES:
        try:
            value = int(os.environ.get(name, ""))
        except ValueError:
            continue
        if value > 0:
            return value
    return 1


def cgroup_quota(root: str = "/") -> float | None:
    """CPUs this process's cgroups allow (quota / period), the tightest along the path to the
    hierarchy's root; None without a quota. `root` prefixes /proc and /sys (for tests)."""
    base = Path(root)
    limits = []
    for mount, group, v2 in _cpu_groups(base):
        directory = base / mount.lstrip("/") / group.lstrip("/")
        top = base / mount.lstrip("/")
        while True:
            quota = _read_quota(directory, v2)
            if quota is not None:
                limits.append(quota)
            if directory == top or top not in directory.parents:
                break
            directory = directory.parent
    return min(limits) if limits else None


def _read_quota(directory: Path, v2: bool) -> float | None:
    """One group's quota in CPUs: v2 `cpu.max` ("max 100000" or "200000 100000"), v1
    `cpu.cfs_quota_us` / `cpu.cfs_period_us` (-1: none)."""
    try:
        if v2:
            quota, period = (directory / "cpu.max").read_text().split()[:2]
        else:
            quota = (directory / "cpu.cfs_quota_us").read_text().strip()
            period = (directory / "cpu.cfs_period_us").read_text().strip()
    except (OSError, ValueError):
        return None
    if quota in ("max", "-1") or int(period) <= 0 or int(quota) <= 0:
        return None
    return int(quota) / int(period)


def _cpu_groups(base: Path) -> list[tuple[str, str, bool]]:
    """(mount point, this process's group path, is v2) for the hierarchies holding the cpu controller."""
    try:
        mounts = (base / "proc/self/mounts").read_text().splitlines()
        own = (base / "proc/self/cgroup").read_text().splitlines()
    except OSError:
        return []
    paths: dict[str, str] = {}
    for line in own:
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(","):
            paths[controller] = path
    found = []
    for line in mounts:
        fields = line.split()
        if len(fields) < 4:
            continue
        if fields[2] == "cgroup2" and "" in paths:
            found.append((fields[1], paths[""], True))
        elif fields[2] == "cgroup" and "cpu" in fields[3].split(",") and "cpu" in paths:
            found.append((fields[1], paths["cpu"], False))
    return found
