"""GRPO training end to end on CPU: the tiny model, real GSM8K rows, the real grader and
interpreters. `python -m pytest tests/test_train.py -v`"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from safetensors.torch import load_file
from shared_paths import shared_path

import lowres_rl.training.main as train
from lowres_rl.languages import Status, available_languages
from lowres_rl.offline.tiny import build_tiny

GSM8K_TRAIN = shared_path("data", "gsm8k", "train.jsonl") or Path("shared/data/gsm8k/train.jsonl")
STATUSES = {s.value for s in Status}


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    """Warm-started so that it sometimes writes tagged programs: rewards then vary within a group
    and GRPO has a gradient (a random model scores every completion alike)."""
    return build_tiny(tmp_path_factory.mktemp("tiny"), hidden_size=64, warm_start_steps=300)


def smoke_args(model: Path, output: Path, lang: str, steps: int = 2) -> list[str]:
    return ["--lang", lang, "--model_name_or_path", str(model), "--dataset", str(GSM8K_TRAIN),
            "--limit", "8", "--bare_prompt", "true", "--max_steps", str(steps), "--save_steps", "1",
            "--per_device_train_batch_size", "8", "--num_generations", "4",
            "--gradient_accumulation_steps", "1", "--max_completion_length", "48",
            "--learning_rate", "1e-3", "--weight_decay", "0", "--warmup_steps", "0",
            "--timeout", "1", "--workers", "1", "--output_dir", str(output), "--seed", "0"]


def completions(output: Path) -> list[dict]:
    return [json.loads(line) for line in (output / "completions.jsonl").read_text().splitlines()]


def lora_b_norm(output: Path) -> float:
    """LoRA B matrices start at zero: a non-zero norm means gradient updates reached them."""
    weights = load_file(str(output / "adapter_model.safetensors"))
    b = [t for name, t in weights.items() if "lora_B" in name]
    assert b, sorted(weights)
    return sum(float(t.abs().sum()) for t in b)


LANGS = ["prolog", "prolog,lisp,hy"] + (["scheme"] if "scheme" in available_languages() else [])


@pytest.mark.parametrize("lang", LANGS)
def test_training_updates_lora_and_logs_every_completion(tiny_model: Path, tmp_path: Path, lang: str) -> None:
    assert train.main(smoke_args(tiny_model, tmp_path, lang)) == 0
    assert lora_b_norm(tmp_path) > 0
    rows = completions(tmp_path)
    assert len(rows) == 2 * 8  # two steps, 8 completions each
    assert {r["step"] for r in rows} == {0, 1}
    assert all(r["status"] in STATUSES and isinstance(r["completion"], str) for r in rows)
    assert {r["language"] for r in rows} <= set(lang.split(","))
    assert all(k in rows[0] for k in ("index", "answer", "gold", "format", "correctness", "reward"))
    assert (tmp_path / "lowres_config.yaml").exists() and (tmp_path / "checkpoint-2").is_dir()


def test_resumed_run_continues_from_the_checkpoint(tiny_model: Path, tmp_path: Path) -> None:
    assert train.main(smoke_args(tiny_model, tmp_path, "prolog", steps=2)) == 0
    assert train.main(smoke_args(tiny_model, tmp_path, "prolog", steps=3)
                      + ["--resume_from_checkpoint", "true"]) == 0
    state = json.loads((tmp_path / "checkpoint-3" / "trainer_state.json").read_text())
    assert state["global_step"] == 3
    steps = [r["step"] for r in completions(tmp_path)]
    assert steps == [0] * 8 + [1] * 8 + [2] * 8  # the resumed run did step 3 only


def test_help_documents_every_flag(capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        train.main(["--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    for flag in ("--lang", "--dataset", "--variant", "--shots", "--reward_preset", "--timeout", "--workers",
                 "--bare_prompt", "--lora_r", "--use_vllm", "--num_generations", "--resume_from_checkpoint"):
        assert flag in text, flag


@pytest.mark.parametrize("extra, expected", [
    (["--lang", "cobol"], ["unknown language 'cobol'", "prolog"]),
    (["--model_name_or_path", "./no/such/model"], ["model path './no/such/model' does not exist"]),
    (["--dataset", "./missing.jsonl"], ["dataset file './missing.jsonl' does not exist"]),
])
def test_bad_input_is_refused_with_a_clear_message(tiny_model: Path, tmp_path: Path, capsys, extra, expected) -> None:
    args = smoke_args(tiny_model, tmp_path / "out", "prolog") + extra
    assert train.main(args) == 2
    err = capsys.readouterr().err
    for text in expected:
        assert text in err, err
    assert not (tmp_path / "out" / "completions.jsonl").exists()


def test_rows_without_an_answer_name_the_column_and_row(tiny_model: Path, tmp_path: Path, capsys) -> None:
    data = tmp_path / "bad.jsonl"
    data.write_text(json.dumps({"question": "2+2?", "answer": "#### 4"}) + "\n"
                    + json.dumps({"question": "3+3?", "answer": "six"}) + "\n")
    assert train.main(smoke_args(tiny_model, tmp_path / "out", "prolog") + ["--dataset", str(data)]) == 2
    err = capsys.readouterr().err
    assert "row 1" in err and "'answer'" in err

    data.write_text(json.dumps({"prompt": "2+2?", "answer": "#### 4"}) + "\n")
    assert train.main(smoke_args(tiny_model, tmp_path / "out", "prolog") + ["--dataset", str(data)]) == 2
    assert "no 'question' column" in capsys.readouterr().err


def test_hub_id_without_network_says_how_to_pass_a_local_path(tmp_path: Path, capsys, monkeypatch) -> None:
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    args = smoke_args(Path("nobody-here/NoSuchModel-0.5B"), tmp_path, "prolog")
    assert train.main(args) == 2
    err = capsys.readouterr().err
    assert "nobody-here/NoSuchModel-0.5B" in err and "--model_name_or_path" in err


def test_missing_interpreter_names_the_package(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no swipl, no sbcl
    assert train.main(smoke_args(Path("unused"), tmp_path, "prolog,lisp")) == 2
    err = capsys.readouterr().err
    assert "swipl" in err and "swi-prolog-nox" in err
