"""The benchmark's N-graders section runs N grader processes at once, as N ranks on one node.
`python -m pytest tests/test_benchmark_ranks.py -v`. No timing is asserted, only that it measures."""
from __future__ import annotations

import os
import shutil

import pytest

from test_benchmarks import load


@pytest.mark.skipif(shutil.which("swipl") is None, reason="SWI-Prolog not installed")
def test_n_graders_at_once_against_one(capsys: pytest.CaptureFixture[str]) -> None:
    bench = load("grader_throughput")
    args = bench.build_parser().parse_args(["--headline-batch", "24", "--ranks", "1,2"])
    runs = bench.measure_ranks("prolog", args, bench.Limits(timeout=1.0), {})
    out = capsys.readouterr().out
    assert "== prolog: N graders at once, as N training ranks on one machine" in out
    by = {(r["ranks"], r["policy"]): r for r in runs}
    assert set(by) == {(1, "share"), (2, "share"), (2, "all cores each")}
    cores = len(os.sched_getaffinity(0))
    assert by[(1, "share")]["workers"] == cores          # one rank: the whole machine
    assert by[(2, "share")]["workers"] == max(1, cores // 2)   # two ranks share it
    assert by[(2, "all cores each")]["workers"] == os.cpu_count()
    for run in runs:
        assert len(run["seconds"]) == run["ranks"] and run["crashed"] == 0
        assert run["total_rate"] > 0 and run["per_rank_rate"] > 0
    assert by[(1, "share")]["total_rate"] == pytest.approx(by[(1, "share")]["per_rank_rate"], rel=0.2)
