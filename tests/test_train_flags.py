"""Every LoRA / ModelConfig flag reaches the model: a one-step run per flag, then the saved
adapter_config.json (or the adapter's weights) shows it. `python -m pytest tests/test_train_flags.py -v`"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from safetensors.torch import load_file
from shared_paths import shared_path

import lowres_rl.training.main as train
from lowres_rl.offline.tiny import build_tiny

GSM8K_TRAIN = shared_path("data", "gsm8k", "train.jsonl") or Path("shared/data/gsm8k/train.jsonl")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    """No warm start: the flags show in the saved adapter whether or not rewards vary."""
    return build_tiny(tmp_path_factory.mktemp("tiny"), hidden_size=32)


def one_step(model: Path, output: Path) -> list[str]:
    return ["--lang", "prolog", "--model_name_or_path", str(model), "--dataset", str(GSM8K_TRAIN),
            "--limit", "2", "--bare_prompt", "true", "--max_steps", "1", "--save_steps", "10",
            "--per_device_train_batch_size", "2", "--num_generations", "2", "--gradient_accumulation_steps", "1",
            "--max_completion_length", "8", "--timeout", "1", "--workers", "1", "--output_dir", str(output)]


def adapter(output: Path) -> tuple[dict, list[str]]:
    weights = load_file(str(output / "adapter_model.safetensors"))
    return json.loads((output / "adapter_config.json").read_text()), sorted(weights)


# Two runs, each carrying several flags; every flag has its own assertion on what was saved.
RUNS = {
    "dora+modules_to_save+task_type": (
        ["--use_dora", "true", "--lora_modules_to_save", "lm_head", "--lora_task_type", "CAUSAL_LM",
         "--lora_r", "4", "--lora_alpha", "8", "--lora_dropout", "0.1"],
        {"use_dora": lambda cfg, names: cfg["use_dora"] is True and any("lora_magnitude_vector" in n for n in names),
         "modules_to_save": lambda cfg, names: cfg["modules_to_save"] == ["lm_head"]
         and any("lm_head" in n for n in names),
         "task_type": lambda cfg, names: cfg["task_type"] == "CAUSAL_LM",
         "r, alpha, dropout": lambda cfg, names: (cfg["r"], cfg["lora_alpha"], cfg["lora_dropout"]) == (4, 8, 0.1)}),
    "rslora+target_modules+target_parameters": (
        ["--use_rslora", "true", "--lora_target_modules", "q_proj", "v_proj",
         "--lora_target_parameters", "mlp.down_proj.weight", "--lora_dropout", "0"],
        {"use_rslora": lambda cfg, names: cfg["use_rslora"] is True,
         "target_modules": lambda cfg, names: set(cfg["target_modules"]) == {"q_proj", "v_proj"}
         and not any("gate_proj" in n or "up_proj" in n for n in names),
         "target_parameters": lambda cfg, names: cfg["target_parameters"] == ["mlp.down_proj.weight"]
         and any("down_proj" in n and "lora_A" in n for n in names)}),
}


@pytest.mark.parametrize("run", RUNS)
def test_every_lora_flag_reaches_the_saved_adapter(tiny_model: Path, tmp_path: Path, run: str) -> None:
    flags, shows = RUNS[run]
    assert train.main(one_step(tiny_model, tmp_path) + flags) == 0
    config, names = adapter(tmp_path)
    failed = [flag for flag, check in shows.items() if not check(config, names)]
    assert not failed, (failed, config, names)


def test_defaults_give_plain_lora_on_every_linear_layer(tiny_model: Path, tmp_path: Path) -> None:
    assert train.main(one_step(tiny_model, tmp_path)) == 0
    config, names = adapter(tmp_path)
    assert (config["use_dora"], config["use_rslora"], config["r"], config["lora_alpha"]) == (False, False, 8, 16)
    targets = {name.rsplit(".", 1)[-1] for name in config["target_modules"]}  # all-linear saves full paths
    assert targets == {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}


@pytest.mark.parametrize("flags, message", [
    (["--lora_task_type", "SEQ_CLS"], "only task type that works is CAUSAL_LM"),
    (["--use_peft", "false", "--use_dora", "true"], "--use_dora configure LoRA, but --use_peft is false"),
    (["--lora_target_parameters", "mlp.down_proj.weight"], "needs --lora_dropout 0"),
])
def test_a_lora_flag_that_cannot_work_is_refused(tiny_model: Path, tmp_path: Path, capsys, flags, message) -> None:
    assert train.main(one_step(tiny_model, tmp_path) + flags) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "completions.jsonl").exists()


def test_dtype_reaches_the_model(tiny_model: Path, tmp_path: Path, monkeypatch) -> None:
    """--dtype is passed to from_pretrained (TRL's default would be float32 everywhere)."""
    import torch

    import lowres_rl.training.checks as checks

    loaded = []
    real = checks.load_model
    monkeypatch.setattr(checks, "load_model", lambda args: loaded.append(real(args)) or loaded[-1])
    assert train.main(one_step(tiny_model, tmp_path) + ["--dtype", "bfloat16", "--use_peft", "false",
                                                        "--max_steps", "1"]) == 0
    assert loaded and loaded[0].dtype == torch.bfloat16
