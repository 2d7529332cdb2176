"""Multi-process training under torchrun on CPU (gloo). The two-rank GRPO run (the tiny model,
synthetic word problems, the real grader and interpreters, checkpoint and resume) is marked slow: a
warm-started model and two launches take a few minutes on two cores; `.ci/run` runs it explicitly:

    python -m pytest -m slow tests/test_distributed.py -v     # the two-rank run
    python -m pytest tests/test_distributed.py -v              # the quick checks
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from safetensors.torch import load_file

from lowres_rl.offline.synthetic import generate, write_jsonl
from lowres_rl.offline.tiny import build_tiny

ROOT = Path(__file__).resolve().parents[1]
# shared/ lies beside the checkout (CI, /work/main) or beside the folder of worktrees holding it
GSM8K_TRAIN = next((p / "shared/data/gsm8k/train.jsonl" for p in ROOT.parents
                    if (p / "shared/data/gsm8k/train.jsonl").is_file()), ROOT.parent / "shared/data/gsm8k/train.jsonl")
PER_RANK = 8  # completions each rank generates and grades per step (two groups of four)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> tuple[Path, Path]:
    """A tiny model warmed up on synthetic problems, half of its programs with a slip, and those
    problems as the training set: it writes right and wrong programs that the real grader runs in
    its pools, so rewards vary within a group and GRPO has a gradient. (model dir, dataset)."""
    root = tmp_path_factory.mktemp("tiny")
    problems = generate(120, seed=1)
    write_jsonl(problems, root / "train.jsonl")
    model = build_tiny(root / "model", hidden_size=64, warm_start_steps=300, warm_problems=problems,
                       warm_mistake_rate=0.5)
    return model, root / "train.jsonl"


def launch(*args: str) -> subprocess.CompletedProcess:
    """Two ranks on this machine; --standalone picks a free port (other test runs may hold 29500)."""
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               "-m", "lowres_rl.train", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=900)


def torchrun(model: tuple[Path, Path], output: Path, steps: int, *extra: str) -> str:
    """Two CPU ranks of `python -m lowres_rl.train`; no --use_cpu or --ddp_backend: the defaults
    must make a data-parallel run by themselves. Returns the launch's combined output."""
    done = launch("--lang", "prolog", "--model_name_or_path", str(model[0]), "--dataset", str(model[1]),
                  "--limit", "16", "--bare_prompt", "true", "--max_steps", str(steps), "--save_steps", "1",
                  "--per_device_train_batch_size", str(PER_RANK), "--num_generations", "4",
                  "--gradient_accumulation_steps", "1", "--max_completion_length", "96", "--learning_rate", "1e-3",
                  "--weight_decay", "0", "--warmup_steps", "0", "--lr_scheduler_type", "constant",
                  "--timeout", "1", "--output_dir", str(output), "--seed", "0", *extra)
    text = done.stdout + done.stderr
    assert done.returncode == 0, text[-6000:]  # torchrun exits 0 only when every rank did
    return text


def rows(output: Path, name: str) -> list[dict]:
    return [json.loads(line) for line in (output / name).read_text().splitlines()]


def lora_b_norm(output: Path) -> float:
    """LoRA B matrices start at zero: a non-zero norm means gradient updates reached them."""
    b = [t for name, t in load_file(str(output / "adapter_model.safetensors")).items() if "lora_B" in name]
    assert b
    return sum(float(t.abs().sum()) for t in b)


@pytest.mark.slow
def test_two_ranks_train_log_their_own_completions_and_resume(tiny_model: tuple[Path, Path], tmp_path: Path) -> None:
    text = torchrun(tiny_model, tmp_path, steps=2)
    assert text.count("done: adapter and lowres_config.yaml written") == 1  # one rank writes them
    assert "rank 0: completions in" in text and "rank 1: completions in" in text
    pools = [line for line in text.splitlines() if "sandbox worker(s) per language" in line]
    assert len(pools) == 2 and all("/ 2 local rank(s)" in line for line in pools)  # sized per rank
    assert (tmp_path / "lowres_config.yaml").exists() and lora_b_norm(tmp_path) > 0
    checkpoint = tmp_path / "checkpoint-2"
    assert {p.name for p in checkpoint.glob("rng_state_*.pth")} == {"rng_state_0.pth", "rng_state_1.pth"}

    logs = {rank: rows(tmp_path, name) for rank, name in ((0, "completions.jsonl"), (1, "completions-rank1.jsonl"))}
    for rank, log in logs.items():
        assert [r["step"] for r in log] == [0] * PER_RANK + [1] * PER_RANK
        assert {r["rank"] for r in log} == {rank}
        assert any(r["status"] != "no_program" for r in log)  # programs ran in this rank's pools
    for step in (0, 1):  # each rank graded its own prompts, not a copy of the other's
        prompts = [{r["index"] for r in log if r["step"] == step} for log in logs.values()]
        assert not prompts[0] & prompts[1]
    # TRL's logged reward is the mean over the rewards gathered from both ranks: the two logs together
    state = json.loads((checkpoint / "trainer_state.json").read_text())
    logged = {entry["step"]: entry["reward"] for entry in state["log_history"] if "reward" in entry}
    for step in (0, 1):
        both = [r["reward"] for log in logs.values() for r in log if r["step"] == step]
        assert logged[step + 1] == pytest.approx(sum(both) / len(both), abs=1e-4)

    trained = lora_b_norm(tmp_path)
    text = torchrun(tiny_model, tmp_path, 3, "--resume_from_checkpoint", "true")
    state = json.loads((tmp_path / "checkpoint-3" / "trainer_state.json").read_text())
    assert state["global_step"] == 3
    assert text.count("done: adapter and lowres_config.yaml written") == 1
    assert lora_b_norm(tmp_path) != trained  # trained a step further (a constant lr: cosine ends at 0)
    for name in ("completions.jsonl", "completions-rank1.jsonl"):  # the resumed run did step 3 only
        assert [r["step"] for r in rows(tmp_path, name)] == [0] * PER_RANK + [1] * PER_RANK + [2] * PER_RANK


@pytest.mark.slow
def test_a_launch_accelerate_would_run_as_lone_processes_is_refused(tmp_path: Path) -> None:
    """The issue's failure, caught before any model loads: on a GPU-less machine without use_cpu,
    accelerate joins the gloo group but reports no distributed run (rank 1 used to crash in TRL's
    shuffle_sequence_dict while rank 0 trained alone). Slow only for two ranks importing TRL."""
    done = launch("--use_cpu", "false", "--ddp_backend", "gloo", "--model_name_or_path", str(tmp_path / "none"),
                  "--dataset", str(GSM8K_TRAIN), "--output_dir", str(tmp_path / "out"))
    text = done.stdout + done.stderr
    assert done.returncode != 0
    assert text.count("launched as 2 processes (WORLD_SIZE=2) but accelerate set up no distributed run") == 2
    assert "--use_cpu true" in text and "IndexError" not in text
    assert not (tmp_path / "out").exists()


def test_cpu_machines_default_to_use_cpu() -> None:
    """The fix itself, in the default suite: without a GPU, use_cpu is on unless asked otherwise, so
    torchrun/accelerate ranks form a data-parallel run with no extra flags (the runs above)."""
    import lowres_rl.training.checks as checks
    import lowres_rl.training.main as train

    _, grpo, _ = train.make_parser().parse_args_and_config([])
    assert grpo.use_cpu is (not checks.accelerator_available())


@pytest.mark.parametrize("config", sorted((ROOT / "examples" / "accelerate").glob("*.yaml")), ids=lambda p: p.stem)
def test_accelerate_configs_load(config: Path) -> None:
    """accelerate's own loader reads every example config (what `accelerate launch --config_file` does)."""
    from accelerate.commands.config.config_args import load_config_from_file

    loaded = load_config_from_file(str(config))
    assert loaded.num_processes >= loaded.num_machines >= 1
    if loaded.num_machines > 1:
        assert loaded.main_process_ip and loaded.main_process_port
