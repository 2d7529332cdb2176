"""Pool sizes follow the CPUs a process may use and the node's local ranks (lowres_rl.sandbox.cpus).
`python -m pytest tests/test_cpus.py -v`

Affinity is set on child processes only (os.sched_setaffinity in the child), never on the test
process or the host; the cgroup quota reader runs on cgroup trees laid out under tmp_path."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lowres_rl.sandbox.cpus import Share, cgroup_quota, local_world_size, pool_size

# In a child: pin to the CPUs given, then build the real Prolog pool with its default size and run
# programs on it. Prints the size, the workers it started and the answers.
CHILD = """
import json, logging, os, sys
logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(name)s: %(message)s")
os.sched_setaffinity(0, json.loads(sys.argv[1]))
from lowres_rl.languages import Limits, Program, get_language
from lowres_rl import sandbox
prolog = get_language("prolog")
pool = sandbox.pool(prolog, Limits())
runs = sandbox.run(prolog, [Program(f"solve(X) :- X is {i} * 2.", "solve(X)") for i in range(6)], Limits())
print(json.dumps({"size": pool.size, "workers": len(pool.pids()), "answers": [r.answer for r in runs]}))
"""

needs_two = pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs 2 usable CPUs")


def pool_in_child(cpus: list[int], **env: str) -> tuple[dict, str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("LOCAL_WORLD_SIZE", "ACCELERATE_CPU_AFFINITY")}
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(cpus)], env={**environ, **env},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


@needs_two
@pytest.mark.parametrize("cpus, env, expected", [
    ([0, 1], {}, 2),                                            # both CPUs, one rank
    ([1], {}, 1),                                               # taskset to one CPU
    ([0, 1], {"LOCAL_WORLD_SIZE": "2"}, 1),                     # two ranks share the node
    ([0, 1], {"LOCAL_WORLD_SIZE": "8"}, 1),                     # more ranks than CPUs: still one
    ([0, 1], {"LOCAL_WORLD_SIZE": "2", "ACCELERATE_CPU_AFFINITY": "1"}, 2),  # the mask is the rank's
])
def test_default_pool_size_follows_affinity_and_local_ranks(cpus, env, expected) -> None:
    result, stderr = pool_in_child(cpus, **env)
    assert result["size"] == expected
    assert result["workers"] == expected  # the pool really started that many, and graded with them
    assert result["answers"] == [str(2 * i) for i in range(6)]
    lines = [line for line in stderr.splitlines() if "sandbox worker(s) per language" in line]
    assert len(lines) == 1 and f"{expected} sandbox worker(s)" in lines[0], stderr  # logged once
    assert f"affinity {len(cpus)} CPUs" in lines[0]


def test_workers_flag_overrides_the_share(caplog) -> None:
    caplog.set_level("INFO", logger="lowres_rl.sandbox.cpus")
    assert pool_size(37) == 37
    assert "37 sandbox worker(s) per language (set by --workers)" in caplog.text


def test_local_world_size_comes_from_the_launcher(monkeypatch) -> None:
    for name in ("LOCAL_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "MV2_COMM_WORLD_LOCAL_SIZE"):
        monkeypatch.delenv(name, raising=False)
    assert local_world_size() == 1
    monkeypatch.setenv("OMPI_COMM_WORLD_LOCAL_SIZE", "4")
    assert local_world_size() == 4
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "8")  # torchrun's wins
    assert local_world_size() == 8


def cgroup_tree(root: Path, mounts: str, own: str, files: dict[str, str]) -> Path:
    (root / "proc/self").mkdir(parents=True)
    (root / "proc/self/mounts").write_text(mounts)
    (root / "proc/self/cgroup").write_text(own)
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_cgroup_v2_quota_is_the_tightest_along_the_path(tmp_path: Path) -> None:
    root = cgroup_tree(tmp_path, "cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid 0 0\n", "0::/job/rank0\n", {
        "sys/fs/cgroup/cpu.max": "max 100000\n",
        "sys/fs/cgroup/job/cpu.max": "250000 100000\n",        # 2.5 CPUs for the job
        "sys/fs/cgroup/job/rank0/cpu.max": "max 100000\n",     # no limit of its own
    })
    assert cgroup_quota(str(root)) == 2.5


def test_cgroup_v1_quota_and_no_quota(tmp_path: Path) -> None:
    mounts = "cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,cpu,cpuacct 0 0\n"
    root = cgroup_tree(tmp_path / "a", mounts, "3:cpu,cpuacct:/docker/abc\n", {
        "sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us": "400000\n",
        "sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us": "100000\n",
    })
    assert cgroup_quota(str(root)) == 4.0
    root = cgroup_tree(tmp_path / "b", mounts, "3:cpu,cpuacct:/\n", {
        "sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us": "-1\n",
        "sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us": "100000\n",
    })
    assert cgroup_quota(str(root)) is None


def test_this_machine_has_a_readable_answer() -> None:
    """On the real /proc and /sys: no quota, or a positive one; the default size is at least 1."""
    quota = cgroup_quota()
    assert quota is None or quota > 0
    assert 1 <= pool_size() <= len(os.sched_getaffinity(0))


@pytest.mark.parametrize("affinity, quota, ranks, pinned, expected", [
    (96, None, 8, False, 12),    # an 8-GPU node: 96 cores shared by 8 ranks
    (96, 16.0, 8, False, 2),     # a 16-CPU container quota on the same node
    (96, 2.5, 1, False, 2),      # fractional quotas round down
    (4, 0.5, 1, False, 1),       # ...but never below one worker
    (12, None, 8, True, 12),     # the launcher pinned this rank to 12 CPUs
])
def test_share_takes_the_tighter_limit_and_divides_it(affinity, quota, ranks, pinned, expected) -> None:
    assert Share(affinity, quota, ranks, pinned).workers == expected
