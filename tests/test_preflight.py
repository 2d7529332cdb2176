"""`--dry_run true` checks a training run without loading weights, and `--max_prompt_length` says
what it drops. `python -m pytest tests/test_preflight.py -v`"""
from __future__ import annotations

import logging
from pathlib import Path

import pytest
from shared_paths import shared_path

import lowres_rl.training.budget as budget
import lowres_rl.training.checks as checks
import lowres_rl.training.main as train
from lowres_rl.offline.tiny import build_tiny

GSM8K_TRAIN = shared_path("data", "gsm8k", "train.jsonl") or Path("shared/data/gsm8k/train.jsonl")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    return build_tiny(tmp_path_factory.mktemp("tiny"), hidden_size=32)


def args(model: Path, output: Path, *extra: str) -> list[str]:
    return ["--lang", "prolog,hy", "--model_name_or_path", str(model), "--dataset", str(GSM8K_TRAIN),
            "--limit", "20", "--output_dir", str(output), "--max_completion_length", "64",
            "--per_device_train_batch_size", "8", "--num_generations", "4", "--gradient_accumulation_steps", "2",
            "--dry_run", "true", *extra]


def test_dry_run_reports_everything_and_loads_no_weights(tiny_model, tmp_path, capsys, monkeypatch) -> None:
    def no_weights(*_):
        raise AssertionError("the dry run loaded model weights")

    monkeypatch.setattr(checks, "load_model", no_weights)
    assert train.main(args(tiny_model, tmp_path / "out", "--use_dora", "true", "--prompt_style", "compact")) == 0
    report = capsys.readouterr().out
    for text in ("qwen2", "prolog, hy: interpreters found", "sandbox isolation", "40 prompts",
                 "tokens min/median/max: prolog ", "style compact", "dora=True", "weights float32",
                 "vllm         off", "16 completions (4 questions x 4", "preflight ok"):
        assert text in report, (text, report)
    assert not (tmp_path / "out").exists()  # nothing written, nothing trained


def test_dry_run_fails_like_the_run_would(tiny_model, tmp_path, capsys) -> None:
    assert train.main(args(tiny_model, tmp_path, "--max_completion_length", "40000")) == 2
    assert "beyond the model's" in capsys.readouterr().err
    assert train.main(args(tiny_model, tmp_path, "--use_vllm", "true")) == 2
    assert "pip install 'lowres-rl[vllm]'" in capsys.readouterr().err


def test_max_prompt_length_says_how_many_rows_it_drops(tiny_model, caplog) -> None:
    from datasets import Dataset
    from trl import ModelConfig

    tokenizer = checks.load_tokenizer(ModelConfig(model_name_or_path=str(tiny_model)))
    short, long = [{"role": "user", "content": "2 + 2?"}], [{"role": "user", "content": "2 + 2? " * 200}]
    dataset = Dataset.from_dict({"prompt": [short, long, short, long], "language": ["prolog", "prolog", "hy", "hy"]})
    cap = budget.prompt_lengths(dataset, tokenizer)[0]  # the short prompt's length: the long ones go
    with caplog.at_level(logging.INFO, logger="lowres_rl.training.budget"):
        fit = budget.fit_prompts(dataset, tokenizer, cap)
    assert len(fit.dataset) == 2 and fit.dropped == {"prolog": 1, "hy": 1}
    assert "drops 2 of 4 rows (prolog 1, hy 1); 2 remain" in caplog.text
    with pytest.raises(budget.PromptBudgetError, match="every prompt is longer than --max_prompt_length 1 "):
        budget.fit_prompts(dataset, tokenizer, 1)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="lowres_rl.training.budget"):
        assert len(budget.fit_prompts(dataset, tokenizer, None).dataset) == 4
    assert "prompt tokens min/median/max: prolog " in caplog.text
