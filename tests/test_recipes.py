"""Every training recipe in examples/recipes parses with the training command's own parser (TRL's,
which rejects unknown keys), and the paper recipes hold the paper's settings."""
from __future__ import annotations

from pathlib import Path

import pytest

from lowres_rl.training.main import make_parser

RECIPES = sorted((Path(__file__).resolve().parents[1] / "examples" / "recipes").glob("*.yaml"))
CPU = ["--bf16", "false", "--use_vllm", "false"]  # GPU recipes, parsed on a CPU machine


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: p.stem)
def test_recipe_parses(recipe: Path) -> None:
    script, grpo, model = make_parser().parse_args_and_config(["--config", str(recipe), *CPU])
    assert script.languages and grpo.max_steps > 0 and model.model_name_or_path


@pytest.mark.parametrize("size", ["0.5", "1.5", "3"])
def test_paper_recipes_hold_the_papers_settings(size: str) -> None:
    path = RECIPES[0].parent / f"paper-{size}b.yaml"
    script, grpo, model = make_parser().parse_args_and_config(["--config", str(path), *CPU])
    assert model.model_name_or_path == f"Qwen/Qwen2.5-Coder-{size}B-Instruct"
    assert (model.lora_r, model.lora_alpha) == (32, 32)
    assert set(model.lora_target_modules) == {f"{m}_proj" for m in ("q", "k", "v", "o", "gate", "up", "down")}
    assert (grpo.learning_rate, grpo.adam_beta1, grpo.adam_beta2, grpo.weight_decay) == (5e-6, 0.9, 0.99, 0.1)
    assert (grpo.warmup_steps, grpo.lr_scheduler_type.value, grpo.max_grad_norm) == (0.1, "cosine", 0.1)
    assert (grpo.num_generations, grpo.gradient_accumulation_steps, grpo.max_completion_length) == (8, 4, 1024)
    assert (grpo.max_steps, grpo.save_steps, script.reward_preset) == (1000, 100, "paper")
    # The paper's prompt budget, with the prompt written for it; bf16 weights, not TRL's float32.
    assert (script.prompt_style, script.shots, script.max_prompt_length) == ("compact", 0, 256)
    assert model.dtype == "bfloat16"


@pytest.mark.parametrize("recipe", [r for r in RECIPES if "cpu" not in r.stem], ids=lambda p: p.stem)
def test_gpu_recipes_load_bf16_weights(recipe: Path) -> None:
    _, grpo, model = make_parser().parse_args_and_config(["--config", str(recipe), *CPU])
    assert model.dtype == "bfloat16" and model.use_peft
