"""The offline demo, shrunken: the whole pipeline (tiny model, warm start, evaluation, GRPO through
the training command, evaluation, report) runs end to end and writes its report. No claim about
learning here: `make demo` (python -m lowres_rl.demo) is the full run, outside the default suite."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import lowres_rl.offline.demo as demo


def test_quick_demo_writes_the_report(tmp_path: Path, capsys) -> None:
    assert demo.main(["--quick", "--output_dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "| seed | language | before | after |" in out and "| 0 | prolog |" in out
    for name in ("report.md", "rewards.png", "accuracy.png", "runs.json"):
        assert (tmp_path / name).stat().st_size > 0, name
    [run] = json.loads((tmp_path / "runs.json").read_text())
    assert set(run["before"]) == set(run["after"]) == {"prolog"}
    assert 0.0 <= run["before"]["prolog"] <= 1.0 and 0.0 <= run["after"]["prolog"] <= 1.0
    assert [step for step, _ in run["rewards"]] == [1, 2]  # the reward of each GRPO step was logged
    assert (tmp_path / "report.md").read_text().count("![") == 2


def test_bad_language_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="cobol"):
        demo.main(["--quick", "--lang", "cobol", "--output_dir", str(tmp_path)])
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(("flags", "named"), [(["--mistake_rate", "1.5"], "--mistake_rate"),
                                              (["--seeds", "one"], "--seeds"), (["--grpo_steps", "0"], "positive")])
def test_bad_settings_are_refused_before_any_work(tmp_path: Path, flags: list[str], named: str) -> None:
    with pytest.raises(SystemExit, match=named):
        demo.main(["--quick", "--output_dir", str(tmp_path), *flags])
    assert not any(tmp_path.iterdir())


def test_held_out_problems_are_not_training_problems(tmp_path: Path) -> None:
    from dataclasses import replace

    from lowres_rl.offline.synthetic import generate

    config = replace(demo.DemoConfig.quick(("prolog",)), warm_problems=4000, eval_problems=100, warm_steps=1)
    demo.prepare(config, seed=1, root=tmp_path)
    train = {json.loads(line)["question"] for line in (tmp_path / "train.jsonl").read_text().splitlines()}
    heldout = [json.loads(line)["question"] for line in (tmp_path / "heldout.jsonl").read_text().splitlines()]
    assert len(heldout) == 100 and not train & set(heldout)
    assert train & {p.question for p in generate(100, seed=1002)}  # unfiltered, this seed's draw would overlap


@pytest.mark.slow
def test_quick_demo_is_repeatable(tmp_path: Path) -> None:
    """Same seed, same threads: the same accuracies and reward curve (slow: two runs)."""
    runs = []
    for name in ("a", "b"):
        assert demo.main(["--quick", "--output_dir", str(tmp_path / name)]) == 0
        [run] = json.loads((tmp_path / name / "runs.json").read_text())
        runs.append({k: run[k] for k in ("before", "after", "rewards")})
    assert runs[0] == runs[1]
