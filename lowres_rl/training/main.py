"""GRPO training: `python -m lowres_rl.train --lang prolog`.

    python -m lowres_rl.train --lang prolog                                   # paper setting, 1.5B
    python -m lowres_rl.train --config examples/recipes/paper-1.5b.yaml
    python -m lowres_rl.train --lang prolog,lisp,hy --model_name_or_path outputs/tiny \\
        --dataset ../shared/data/gsm8k/train.jsonl --max_steps 3 --output_dir outputs/smoke
    accelerate launch --config_file examples/accelerate/multi_gpu.yaml -m lowres_rl.train ...

Every GRPOConfig field (TRL) and ModelConfig field (model, LoRA, quantisation) is a flag, next to
ours (TrainScriptArguments: lowres_rl.settings.RunSettings, shared with evaluate, plus two); `--config recipe.yaml` sets any of them from YAML. Bad input is
refused before a model is loaded. The output directory gets checkpoints, the final LoRA adapter,
`lowres_config.yaml` (every setting of the run) and `completions.jsonl` (every completion, graded;
under torchrun/accelerate each rank grades its own share and rank N > 0 logs it to
`completions-rankN.jsonl`; one rank writes the adapter and settings).
"""
from __future__ import annotations

import logging
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import lowres_rl.training.checks as checks
from lowres_rl.settings import RunSettings

log = logging.getLogger("lowres_rl.training.main")

DEFAULT_MODEL = "Qwen/Qwen2.5-Coder-1.5B-Instruct"
# The paper's GRPO setting. warmup_steps below 1 is a ratio of max_steps (transformers 5 folded
# warmup_ratio into it). The paper's "batch 1" was Unsloth's: one prompt, 8 completions per device.
GRPO_DEFAULTS = dict(
    output_dir="outputs/grpo", learning_rate=5e-6, adam_beta1=0.9, adam_beta2=0.99, weight_decay=0.1,
    warmup_steps=0.1, lr_scheduler_type="cosine", max_grad_norm=0.1, per_device_train_batch_size=8,
    gradient_accumulation_steps=4, num_generations=8, max_completion_length=1024, max_steps=1000,
    save_steps=100, logging_steps=1, report_to="none",
)
MODEL_DEFAULTS = dict(model_name_or_path=DEFAULT_MODEL, use_peft=True, lora_r=8, lora_alpha=16,
                      lora_dropout=0.05, lora_target_modules=["all-linear"])


@dataclass
class TrainScriptArguments(RunSettings):
    """lowres-rl's training settings: the shared RunSettings (data, languages, prompt, reward,
    limits, workers) plus those only training has: the outcome predictor as a metric, the prompt
    budget and the dry run (the rest are TRL's GRPOConfig and ModelConfig)."""

    predictor_model: str | None = field(default=None, metadata={"help": "A run-free outcome predictor "
                                        "(`python -m lowres_rl.predict train`): adds the reward function "
                                        "predicted_ok, the predicted chance that each completion's program runs to "
                                        "an answer, at weight 0 (logged: how predictable the policy's failures are). The file is a "
                                        "joblib pickle: load only your own."})
    max_prompt_length: int | None = field(default=None, metadata={"help": "Drop rows whose rendered prompt "
                                          "is longer than this many tokens; how many (per language) is logged "
                                          "at start-up. The paper used 256 (see --prompt_style compact). "
                                          "Default: keep all."})
    dry_run: bool = field(default=False, metadata={"help": "Preflight: check languages, interpreters, "
                          "isolation, dataset, tokenizer, prompt lengths, LoRA, dtype and vLLM, print the "
                          "tokens a step will cost, and exit without loading model weights."})

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.max_prompt_length is not None and self.max_prompt_length < 1:
            raise ValueError(f"--max_prompt_length must be a positive number of tokens, got {self.max_prompt_length}")


def make_parser():
    """TRL's parser over (ours, GRPOConfig, ModelConfig), with the paper's defaults."""
    from trl import GRPOConfig, ModelConfig, TrlParser

    parser = TrlParser((TrainScriptArguments, GRPOConfig, ModelConfig), prog="python -m lowres_rl.train",
                       description=__doc__.split("\n")[0])
    _alias(parser, "model_name_or_path", "--model")  # evaluate's spelling, accepted here too
    bf16 = _bf16_available()
    # use_cpu too: without it, accelerate on a GPU-less machine sets up no data-parallel run under
    # torchrun (see checks.distributed); TRL's own bf16 default would have forced it there.
    parser.set_defaults(**GRPO_DEFAULTS, **MODEL_DEFAULTS, bf16=bf16, dtype="bfloat16" if bf16 else "float32",
                        use_cpu=not checks.accelerator_available())
    for action in parser._actions:  # TRL's help says float32, which is not our default
        if action.dest == "dtype":
            action.help = ("dtype of the model weights: bfloat16 where the GPU supports it, else float32 "
                           "(TRL's own default is float32 everywhere, which trains a 1.5B model with fp32 weights)")
    return parser


def _alias(parser, dest: str, option: str) -> None:
    """Accept `option` for the flag of `dest` (argparse has no public call to add one later)."""
    action = next(a for a in parser._actions if a.dest == dest)
    action.option_strings.append(option)
    parser._option_string_actions[option] = action


def default_model_args():
    """The ModelConfig of a run that sets no model flag (to tell a flag given from a default)."""
    from trl import ModelConfig

    return ModelConfig(**MODEL_DEFAULTS)


def _bf16_available() -> bool:
    """TRL defaults to bf16, which a CPU-only machine refuses: default to it only where it works."""
    import torch

    return torch.cuda.is_available() and torch.cuda.is_bf16_supported()


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    script_args, grpo_args, model_args = make_parser().parse_args_and_config(argv)
    try:
        if script_args.dry_run:
            from lowres_rl.training.preflight import preflight

            print(preflight(script_args, grpo_args, model_args, default_model_args()))
            return 0
        train(script_args, grpo_args, model_args)
    except checks.SetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def train(script_args: TrainScriptArguments, grpo_args, model_args) -> Path:
    """Check everything, then train; returns the output directory."""
    from trl import GRPOTrainer

    from lowres_rl.training.completions import CompletionLog
    from lowres_rl.training.preflight import training_dataset
    from lowres_rl.grading.rewards import Grader

    checks.distributed(grpo_args)
    checks.languages(script_args.languages)
    checks.generation(grpo_args, model_args)
    peft_config = checks.peft_config(model_args, default_model_args())
    tokenizer = checks.load_tokenizer(model_args)
    dataset = training_dataset(script_args, tokenizer).dataset
    output = Path(grpo_args.output_dir)
    output.mkdir(parents=True, exist_ok=True)
    completion_log = CompletionLog(output, rank=grpo_args.process_index)
    grader = Grader(_preset(script_args, dataset), variant=script_args.variant,
                    limits=script_args.limits(),
                    workers=script_args.workers, language=script_args.languages[0],
                    on_batch=completion_log.record)
    reward_funcs, weights = grader.reward_functions(), grader.weights
    if script_args.predictor_model:
        reward_funcs.append(_predicted_ok(script_args))
        weights = [*weights, 0.0]
    if grpo_args.reward_weights is None:
        grpo_args.reward_weights = weights
    if grpo_args.should_save:  # one rank writes the shared artefacts (save_model below does too)
        _save_settings(output, script_args, grpo_args, model_args)
    model = checks.load_model(model_args)
    trainer = GRPOTrainer(model=model, processing_class=tokenizer, reward_funcs=reward_funcs,
                          args=grpo_args, train_dataset=dataset, peft_config=peft_config)
    trainer.train(resume_from_checkpoint=_resume(grpo_args.resume_from_checkpoint))
    trainer.save_model(str(output))
    completion_log.close()
    if grpo_args.should_save:
        log.info("done: adapter and lowres_config.yaml written to %s", output)
    log.info("rank %d: completions in %s", grpo_args.process_index, completion_log.path)
    return output


def _preset(script_args: TrainScriptArguments, dataset):
    """The reward preset, with the similarity components (weight 0) where rows have references."""
    from lowres_rl.grading.presets import PRESETS, with_similarity
    from lowres_rl.grading.similarity import require_sacrebleu

    preset = PRESETS[script_args.reward_preset]
    if "reference" not in dataset.column_names:
        if any(c.name == "bleu" and c.weight for c in preset.components):
            raise checks.SetupError(f"--reward_preset {preset.name} rewards similarity to a reference program, and "
                                    f"the dataset has no {script_args.reference_column!r} column: pass "
                                    f"--reference_dataset (GSM8K-Prolog) or --reference_column")
        return preset
    try:
        require_sacrebleu()
    except ImportError as exc:
        raise checks.SetupError(str(exc)) from None
    return with_similarity(preset)


def _predicted_ok(script_args: TrainScriptArguments):
    """The predictor's `predicted_ok` reward function; a SetupError naming the file if it cannot load."""
    from lowres_rl.prediction.reward import predicted_reward

    try:
        return predicted_reward(script_args.predictor_model, "ok", default_language=script_args.languages[0])
    except (OSError, ValueError, ImportError) as exc:
        raise checks.SetupError(f"--predictor_model {script_args.predictor_model!r}: {exc}") from None


def _resume(value: str | None) -> str | bool | None:
    """`--resume_from_checkpoint true` resumes from the newest checkpoint in output_dir."""
    if value is None or str(value).lower() in ("", "false", "none"):
        return None
    return True if str(value).lower() in ("true", "last", "latest") else value


def _save_settings(output: Path, script_args, grpo_args, model_args) -> None:
    """Every setting of this run, as YAML that `--config` can read back."""
    import yaml

    settings = {**asdict(script_args), **grpo_args.to_dict(), **asdict(model_args)}
    plain = {k: v for k, v in settings.items() if isinstance(v, (str, int, float, bool, list, type(None)))}
    (output / "lowres_config.yaml").write_text(yaml.safe_dump(plain, sort_keys=True), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
