"""Smoke tests of the benchmarks: their --quick versions run and print their tables and ratios.
No timing is asserted (the figures depend on the machine); only that the benchmarks work."""
from __future__ import annotations

import importlib.util
import re
import shutil
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
NEEDED = {"prolog": "swipl", "lisp": "sbcl"}


def load(name: str):
    """Import benchmarks/<name>.py as a module (benchmarks/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"benchmarks_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def available() -> list[str]:
    return [lang for lang in ("prolog", "lisp", "hy") if shutil.which(NEEDED.get(lang, "python"))]


def test_grader_throughput_quick(capsys: pytest.CaptureFixture[str]) -> None:
    languages = available()
    if not languages:
        pytest.skip("no interpreter installed")
    bench = load("grader_throughput")
    results = bench.main(["--quick", "--languages", ",".join(languages)])
    out = capsys.readouterr().out

    assert "load average at start" in out and "load average at end" in out
    for language in languages:
        assert f"== {language}: baseline, one fresh process per program" in out
        assert f"== {language}: Grader on the realistic mix" in out
        assert f"== {language}: headline batch 64" in out
        assert f"== {language}: worker memory" in out
        assert f"where the time goes" in out
        res = results[language]
        # every sweep row has a positive rate and a baseline to compare with
        for (n, workers), (run, base_rate) in res["sweep"].items():
            assert run.n == n and run.rate > 0 and base_rate > 0
            assert run.as_expected >= n - 2  # the programs graded as their kind says (bar a stray one)
        assert res["memory"]["early"] > 0 and res["memory"]["late"] > 0
    assert "== SUMMARY ==" in out
    summary = out.split("== SUMMARY ==")[1]
    assert re.search(r"speedup, realistic mix, batch 64, \d+ workers\s+>= \d+x\s+\d+\.\dx", summary)
    assert re.search(r"speedup, no loops", summary)
    assert re.search(r"\b(PASS|FAIL)\b", summary)
    # the table's ratio column: one "N.Nx" per sweep row
    assert len(re.findall(r"\s\d+\.\dx\s", out)) >= len(languages)


def test_grader_throughput_help(capsys: pytest.CaptureFixture[str]) -> None:
    bench = load("grader_throughput")
    with pytest.raises(SystemExit) as exit_info:
        bench.main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for flag in ("--quick", "--loops-percent", "--batch-sizes", "--workers", "--memory-programs", "--timeout"):
        assert flag in out


def test_mix_has_every_kind() -> None:
    bench = load("grader_throughput")
    cases = bench.make_cases("prolog", 200, {"wrong": 15, "syntax": 5, "runtime": 5, "loop": 1}, seed=0)
    kinds = {c.kind for c in cases}
    assert kinds == {"correct", "wrong", "syntax", "runtime", "loop"}
    assert sum(c.kind == "loop" for c in cases) == 2
    assert all("<code>" in c.completion for c in cases)


@pytest.mark.skipif(shutil.which("sbcl") is None, reason="SBCL not installed")
def test_lisp_process_model_quick(capsys: pytest.CaptureFixture[str]) -> None:
    bench = load("lisp_process_model")
    results = bench.main(["--quick"])
    out = capsys.readouterr().out
    assert "process per program (sbcl --script)" in out
    assert "persistent workers (lowres_rl pool)" in out
    assert re.search(r"ratio persistent / process-per-program at 1 parallel: \d+\.\dx", out)
    assert all(rate > 0 for rate in results["rates"].values())
    # both models computed the right answers for the same programs
    assert re.findall(r"\s20/20\s", out) and len(re.findall(r"\s20/20\s", out)) == len(results["rates"])
