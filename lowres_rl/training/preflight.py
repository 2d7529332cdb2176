"""Preflight: everything a training run needs, checked in seconds, without loading model weights.

    python -m lowres_rl.train --config examples/recipes/paper-1.5b.yaml --dry_run true

Cheap enough to run before every GPU job: it loads the tokenizer and the model's config.json
(kilobytes), never the weights. It checks the languages and their interpreters, the sandbox's
isolation level, the dataset, the prompt lengths per language against `--max_prompt_length`, the
LoRA config TRL will build, the dtype, vLLM, and prints what one optimisation step costs in tokens.
A problem raises checks.SetupError, as the real run would, only minutes earlier.
"""
from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
from typing import Any

import lowres_rl.training.budget as budget
import lowres_rl.training.checks as checks

log = logging.getLogger("lowres_rl.training.preflight")

# TRL 1.16 tests its vLLM integration against these releases (trl/import_utils.py warns outside).
VLLM_SUPPORTED = ("0.22.0", "0.31.0")


def training_dataset(script_args: Any, tokenizer: Any) -> budget.Fit:
    """The rows of the run, as prompts, fitted to `--max_prompt_length` (drops are logged)."""
    from lowres_rl.data.dataset import build_dataset

    rows = checks.dataset(script_args.rows)
    dataset = checks.dataset(lambda: build_dataset(rows, script_args.languages, script_args.variant,
                                                   script_args.shots, script_args.question_column,
                                                   script_args.answer_column, system=not script_args.bare_prompt,
                                                   style=script_args.prompt_style,
                                                   reference_column=script_args.reference_column,
                                                   reference_language=script_args.references_in))
    try:
        return budget.fit_prompts(dataset, tokenizer, script_args.max_prompt_length)
    except budget.PromptBudgetError as exc:
        raise checks.SetupError(str(exc)) from None


def model_config(model_args: Any) -> Any:
    """The model's config.json only (architecture and sizes; no weights)."""
    from transformers import AutoConfig

    source = checks.model_source(model_args.model_name_or_path)
    return checks.from_hub(lambda: AutoConfig.from_pretrained(source, revision=model_args.model_revision),
                            source, "config of")


def vllm_status(grpo_args: Any) -> str:
    """Whether vLLM is asked for, installed, and in the range TRL supports."""
    if not grpo_args.use_vllm:
        return "off (generation with transformers)"
    if importlib.util.find_spec("vllm") is None:
        raise checks.SetupError("--use_vllm needs vLLM: pip install 'lowres-rl[vllm]' (and a GPU)")
    from packaging.version import Version

    version = importlib.metadata.version("vllm")
    low, high = VLLM_SUPPORTED
    supported = Version(low) <= Version(Version(version).base_version) <= Version(high)
    server = (f", server {grpo_args.vllm_server_host}:{grpo_args.vllm_server_port}"
              if grpo_args.vllm_mode == "server" else "")
    return (f"{grpo_args.vllm_mode} mode{server}, vLLM {version}"
            + ("" if supported else f" (outside TRL's tested {low}-{high}: pip install 'lowres-rl[vllm]')"))


def dtype_status(grpo_args: Any, model_args: Any) -> str:
    """The weights' dtype next to the mixed-precision flags; fp32 weights under bf16 is named."""
    precision = "bf16" if grpo_args.bf16 else "fp16" if grpo_args.fp16 else "fp32"
    note = ""
    if model_args.dtype in (None, "float32") and precision != "fp32":
        note = " (float32 weights under bf16/fp16 autocast: twice the memory; --dtype bfloat16 is what a GPU wants)"
    return f"weights {model_args.dtype}, compute {precision}{note}"


def lora_status(peft_config: Any) -> str:
    if peft_config is None:
        return "off: full fine-tuning"
    fields = dict(r=peft_config.r, alpha=peft_config.lora_alpha, dropout=peft_config.lora_dropout,
                  targets=peft_config.target_modules, target_parameters=peft_config.target_parameters,
                  modules_to_save=peft_config.modules_to_save, dora=peft_config.use_dora,
                  rslora=peft_config.use_rslora, task=peft_config.task_type)
    return ", ".join(f"{k}={sorted(v) if isinstance(v, set) else v}" for k, v in fields.items())


def step_tokens(grpo_args: Any, median_prompt: float) -> dict[str, int]:
    """Completions and tokens per optimisation step (every process together): each completion pays
    its prompt again, so prompt tokens count once per generation."""
    completions = grpo_args.per_device_train_batch_size * grpo_args.gradient_accumulation_steps * grpo_args.world_size
    prompt = int(completions * median_prompt)
    return {"completions": completions, "questions": completions // grpo_args.num_generations,
            "prompt_tokens": prompt, "completion_tokens_max": completions * grpo_args.max_completion_length,
            "total_tokens_max": prompt + completions * grpo_args.max_completion_length}


def preflight(script_args: Any, grpo_args: Any, model_args: Any, default_model_args: Any = None) -> str:
    """Run every check of a training run and return the report (SetupError on the first problem)."""
    from lowres_rl.sandbox.isolation import level
    from lowres_rl.grading.presets import PRESETS

    checks.languages(script_args.languages)
    checks.generation(grpo_args, model_args)
    peft_config = checks.peft_config(model_args, default_model_args)
    config = model_config(model_args)
    tokenizer = checks.load_tokenizer(model_args)
    fit = training_dataset(script_args, tokenizer)
    stats = fit.stats
    median = max(s["median"] for s in stats.values())
    cost = step_tokens(grpo_args, median)
    cap = script_args.max_prompt_length
    longest = max(min(s["max"], cap or s["max"]) for s in stats.values()) + grpo_args.max_completion_length
    positions = getattr(config, "max_position_embeddings", None)
    if positions and longest > positions:
        raise checks.SetupError(f"longest prompt + --max_completion_length = {longest} tokens, beyond the "
                                f"model's {positions} positions; lower --max_completion_length or --max_prompt_length")
    lines = [
        f"model        {model_args.model_name_or_path} ({config.model_type}, {getattr(config, 'num_hidden_layers', '?')} "
        f"layers, hidden {getattr(config, 'hidden_size', '?')}; weights not loaded)",
        f"languages    {', '.join(script_args.languages)}: interpreters found; sandbox isolation {level()}",
        f"dataset      {script_args.dataset} ({script_args.dataset_split}): {len(fit.dataset)} prompts "
        f"({', '.join(script_args.languages)} x {stats[script_args.languages[0]]['rows']} rows, less the dropped)",
        f"prompt       style {script_args.prompt_style}, variant {script_args.variant}, {script_args.shots} shots; "
        f"tokens min/median/max: {budget.describe(stats)}",
        f"budget       --max_prompt_length {script_args.max_prompt_length or 'none'}: dropped "
        + (", ".join(f"{lang} {n} of {stats[lang]['rows']}" for lang, n in fit.dropped.items())),
        f"reward       preset {script_args.reward_preset}: " + ", ".join(
            f"{c.name} x{c.weight:g}" for c in PRESETS[script_args.reward_preset].components),
        f"lora         {lora_status(peft_config)}",
        f"dtype        {dtype_status(grpo_args, model_args)}",
        f"vllm         {vllm_status(grpo_args)}",
        f"step         {cost['completions']} completions ({cost['questions']} questions x {grpo_args.num_generations}, "
        f"{grpo_args.world_size} process(es)): ~{cost['prompt_tokens']:,} prompt tokens + up to "
        f"{cost['completion_tokens_max']:,} completion tokens = up to {cost['total_tokens_max']:,} tokens",
        f"output       {grpo_args.output_dir}",
        "preflight ok: nothing was trained (drop --dry_run to start)",
    ]
    return "\n".join(lines)
