"""Real-size GRPO steps: Qwen2.5-Coder's real architecture (random weights) and the real tokenizer,
trained a few steps through `python -m lowres_rl.train`; reports step time, peak memory (host and
GPU), tokens per second and the share of each step spent grading.

    python benchmarks/real_size.py --size 0.5 --steps 3 --completion-length 32          # CPU
    python benchmarks/real_size.py --size 1.5 --steps 4 --completion-length 1024 \\
        --recipe examples/recipes/paper-1.5b.yaml -- --use_vllm true --vllm_mode colocate   # GPU

Random weights write random text, so completions run to the length cap and nothing parses: the
figures are the cost of a step at that length, not of learning. Arguments after `--` go to the
training command as they are. Needs the real tokenizer (`--tokenizer`, default
../shared/models/qwen2.5-tokenizer) and GSM8K train (`--dataset`). Not part of CI.
"""
from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The published config.json files of Qwen2.5-Coder-{0.5,1.5,3}B-Instruct.
SIZES = {
    "0.5": dict(hidden_size=896, intermediate_size=4864, num_hidden_layers=24, num_attention_heads=14),
    "1.5": dict(hidden_size=1536, intermediate_size=8960, num_hidden_layers=28, num_attention_heads=12),
    "3": dict(hidden_size=2048, intermediate_size=11008, num_hidden_layers=36, num_attention_heads=16),
}
COMMON = dict(num_key_value_heads=2, vocab_size=151936, rope_theta=1e6, max_position_embeddings=32768,
              tie_word_embeddings=True, bos_token_id=151643, eos_token_id=151645)


def shared(*parts: str) -> Path:
    """`shared/<parts>` beside the checkout or beside a folder above it (a worktree)."""
    candidates = [folder / "shared" / Path(*parts) for folder in ROOT.parents]
    return next((path for path in candidates if path.exists()), candidates[0])


def build(size: str, tokenizer: Path, output: Path, dtype: str) -> Path:
    """Config, random weights (in `dtype`), the real tokenizer and Qwen's stop tokens, saved."""
    import torch
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(0)
    config = Qwen2Config(**SIZES[size], **COMMON)
    model = Qwen2ForCausalLM(config).to(getattr(torch, dtype))
    model.generation_config = GenerationConfig(eos_token_id=[151645, 151643], pad_token_id=151643)
    model.save_pretrained(output)
    for file in tokenizer.iterdir():
        shutil.copy(file, output / file.name)
    return output


def worker(result: Path, argv: list[str]) -> None:
    """Train in this process (the same `main` as `python -m lowres_rl.train`), timing the grader and
    keeping the trainer's per-step logs (TRL's step_time and num_tokens)."""
    import torch
    import transformers

    import lowres_rl.grading.rewards as rewards
    import lowres_rl.training.main as train

    grading, logs = [], []
    grade, log = rewards.Grader.grade, transformers.Trainer.log

    def logged(self, entry, *args, **kwargs):
        logs.append(dict(entry))
        return log(self, entry, *args, **kwargs)

    def timed(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return grade(self, *args, **kwargs)
        finally:
            grading.append(time.perf_counter() - start)

    rewards.Grader.grade, transformers.Trainer.log = timed, logged
    code = train.main(argv)
    gpu = torch.cuda.max_memory_reserved() if torch.cuda.is_available() else None
    result.write_text(json.dumps({"code": code, "grading_s": grading, "gpu_peak_bytes": gpu,
                                  "logs": [e for e in logs if "step_time" in e],
                                  "host_peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))


def train_args(args: argparse.Namespace, model: Path, output: Path, extra: list[str]) -> list[str]:
    config = ["--config", str(args.recipe)] if args.recipe else []
    return [*config, "--model_name_or_path", str(model), "--dataset", str(args.dataset), "--lang", args.lang,
            "--limit", "256", "--prompt_style", "compact", "--max_prompt_length", "256",
            "--max_steps", str(args.steps), "--save_steps", "100000", "--logging_steps", "1", "--report_to", "none",
            "--max_completion_length", str(args.completion_length), "--output_dir", str(output),
            *(["--per_device_train_batch_size", str(args.batch), "--num_generations", str(args.generations),
               "--gradient_accumulation_steps", "1"] if not args.recipe else []),
            *(["--use_vllm", "false", "--bf16", "false", "--dtype", "float32"] if not args.gpu else []), *extra]


def measure(args: argparse.Namespace, extra: list[str]) -> dict:
    work = Path(tempfile.mkdtemp(prefix=f"real-size-{args.size}b-"))
    started = time.perf_counter()
    subprocess.run([sys.executable, __file__, "--build-into", str(work / "model"), "--size", args.size,
                    "--tokenizer", str(args.tokenizer), "--dtype", "bfloat16" if args.gpu else "float32"], check=True)
    built = time.perf_counter() - started
    result = work / "result.json"
    subprocess.run([sys.executable, __file__, "--worker", str(result), "--",
                    *train_args(args, work / "model", work / "out", extra)], check=True, cwd=ROOT)
    measured = json.loads(result.read_text())
    if measured["code"] != 0 or not measured["logs"]:
        raise SystemExit(f"training failed (exit {measured['code']}); its output is above, files in {work}")
    shutil.rmtree(work, ignore_errors=True)
    return summarise(args, measured, measured["logs"], built)


def summarise(args: argparse.Namespace, measured: dict, logs: list[dict], built: float) -> dict:
    steps = [e["step_time"] for e in logs]
    tokens = [e["num_tokens"] for e in logs]
    later = steps[1:] or steps  # the first step also warms caches and the sandbox pool
    rate = (tokens[-1] - tokens[0]) / sum(steps[1:]) if len(steps) > 1 else tokens[-1] / steps[0]
    graded = measured["grading_s"]
    return {"size": f"{args.size}B", "device": "GPU" if args.gpu else "CPU", "steps": len(steps),
            "completion_length": args.completion_length, "build_s": round(built, 1),
            "step_s_median": round(statistics.median(later), 2), "step_s_first": round(steps[0], 2),
            "tokens_per_s": round(rate, 1), "grading_share": round(sum(graded) / sum(steps), 4),
            "grading_s_per_step": round(sum(graded) / len(steps), 3),
            "host_peak_gb": round(measured["host_peak_kb"] / 2 ** 20, 2),
            "gpu_peak_gb": None if measured["gpu_peak_bytes"] is None else round(measured["gpu_peak_bytes"] / 2 ** 30, 2)}


def table(row: dict) -> str:
    head = "| " + " | ".join(row) + " |\n|" + "---|" * len(row) + "\n"
    return head + "| " + " | ".join("–" if v is None else str(v) for v in row.values()) + " |"


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="0.5", help="model size in billions")
    parser.add_argument("--steps", type=int, default=3, help="GRPO steps (the first is reported apart)")
    parser.add_argument("--completion-length", type=int, default=32, help="--max_completion_length")
    parser.add_argument("--batch", type=int, default=4, help="completions per step without --recipe")
    parser.add_argument("--generations", type=int, default=4, help="completions per question without --recipe")
    parser.add_argument("--lang", default="prolog", help="language(s) to train on")
    parser.add_argument("--recipe", type=Path, help="a training recipe for the batch settings (GPU runs)")
    parser.add_argument("--gpu", action="store_true", help="bf16 weights, and the recipe's vLLM/bf16 settings kept")
    parser.add_argument("--tokenizer", type=Path, default=shared("models", "qwen2.5-tokenizer"),
                        help="the real Qwen2.5 tokenizer (default: shared/models/qwen2.5-tokenizer)")
    parser.add_argument("--dataset", type=Path, default=shared("data", "gsm8k", "train.jsonl"),
                        help="GSM8K train as JSONL (default: shared/data/gsm8k/train.jsonl)")
    parser.add_argument("--output", type=Path, help="also write the row as JSON here")
    parser.add_argument("--build-into", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--dtype", default="float32", help=argparse.SUPPRESS)
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ours, extra = (argv[:argv.index("--")], argv[argv.index("--") + 1:]) if "--" in argv else (argv, [])
    args = make_parser().parse_args(ours)
    if args.build_into:
        build(args.size, args.tokenizer, args.build_into, args.dtype)
        return 0
    if args.worker:
        worker(args.worker, extra)
        return 0
    for path, what in ((args.tokenizer, "--tokenizer"), (args.dataset, "--dataset")):
        if not path.exists():
            print(f"error: {what} {path} does not exist", file=sys.stderr)
            return 2
    row = measure(args, extra)
    print(table(row))
    if args.output:
        args.output.write_text(json.dumps(row, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
