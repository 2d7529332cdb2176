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


# TRL's loss variants: the GRPOConfig fields each recipe exists to set (trl/trainer/grpo_config.py).
LOSS_VARIANTS = {
    "grpo": {"loss_type": "grpo", "importance_sampling_level": "token"},
    "dr-grpo": {"loss_type": "dr_grpo", "scale_rewards": "none"},
    "dapo": {"loss_type": "dapo", "epsilon_high": 0.28, "mask_truncated_completions": True},
    # GSPO as TRL's paper index sets it: sequence-level ratios, no KL, tight clips, 4 optimiser steps per rollout
    "gspo": {"importance_sampling_level": "sequence", "loss_type": "grpo", "beta": 0.0, "epsilon": 3e-4,
             "epsilon_high": 4e-4, "gradient_accumulation_steps": 1, "steps_per_generation": 4},
}


@pytest.mark.parametrize("variant", sorted(LOSS_VARIANTS))
def test_loss_variant_recipes_set_their_loss(variant: str) -> None:
    path = RECIPES[0].parent / f"{variant}-1.5b.yaml"
    assert path.read_text().startswith("# "), "a recipe starts with the line that says why"
    _, grpo, _ = make_parser().parse_args_and_config(["--config", str(path), *CPU])
    assert {field: getattr(grpo, field) for field in LOSS_VARIANTS[variant]} == LOSS_VARIANTS[variant]


def test_loss_variant_recipes_differ_only_in_the_loss() -> None:
    """Same model, data, reward, LoRA and completions seen, so that their runs compare the loss."""
    loss_fields = {f for fields in LOSS_VARIANTS.values() for f in fields} | {"max_steps", "save_steps", "output_dir"}
    settings = []
    for variant in LOSS_VARIANTS:
        script, grpo, model = make_parser().parse_args_and_config(
            ["--config", str(RECIPES[0].parent / f"{variant}-1.5b.yaml"), *CPU])
        seen = grpo.max_steps * grpo.per_device_train_batch_size * grpo.gradient_accumulation_steps
        grpo_rest = {k: v for k, v in grpo.to_dict().items() if k not in loss_fields | {"logging_dir"}}
        settings.append((vars(script), grpo_rest, vars(model), seen))
    assert all(s == settings[0] for s in settings[1:])


def test_rl4qe_recipe_uses_references_and_lora_r8() -> None:
    script, _, model = make_parser().parse_args_and_config(["--config", str(RECIPES[0].parent / "rl4qe-1.5b.yaml"), *CPU])
    assert (script.reward_preset, script.reference_dataset, model.lora_r) == ("rl4qe", "Thomas-X-Yang/gsm8k-prolog", 8)
