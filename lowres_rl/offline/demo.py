"""An offline demo that shows GRPO teaching a model: `python -m lowres_rl.demo` (or `make demo`).

    python -m lowres_rl.demo                         # Prolog, seeds 0,1,2: about 3 minutes each on 2 cores
    python -m lowres_rl.demo --seeds 0               # one seed
    python -m lowres_rl.demo --mistake_rate 0        # warm-up data without slips (the control)
    python -m lowres_rl.demo --quick                 # a shrunken run: pipeline check, no learning claim

Without the hub no real Qwen weights load, so the demo builds a tiny Qwen2-architecture model and
warms it up with supervised steps on synthetic word problems (lowres_rl.offline.synthetic). Half of the
warm-up programs (`--mistake_rate`) carry their template's classic slip, an operator misread in
one step (the discount added, not subtracted): like a weak base model, the warm model then writes
right and wrong programs for the same kind of problem, and nothing but the reward can tell it
which is which. The demo measures greedy accuracy on held-out problems (new numbers and names),
trains with GRPO through `python -m lowres_rl.train` (the real grader, interpreters and sandbox),
measures again, and writes a report: `report.md`, `rewards.png` (the reward curve) and
`accuracy.png` (before/after per seed and language), and prints the table.

Repeatable as far as torch allows on CPU: a fixed thread count (`--threads`, default 2: float sums
depend on how work is split), deterministic algorithms, and seeded sampling (`--seed` reaches the
warm start, TRL's generation and evaluation). What stays machine-dependent: the grader's wall-clock
timeout (a program that needs 0.9 s on an idle machine can time out on a loaded one) and a
different torch build or CPU instruction set.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from lowres_rl.settings import spellings

log = logging.getLogger("lowres_rl.offline.demo")


@dataclass(frozen=True)
class DemoConfig:
    """Sizes of one demo run; `quick()` shrinks everything to a pipeline check."""

    languages: tuple[str, ...] = ("prolog",)
    hidden_size: int = 128
    layers: int = 2
    warm_steps: int = 2000      # batches of 8: each of the problems seen about 4 times, so that the
    warm_problems: int = 4000   # model learns to copy numbers instead of memorising 400 problems
    mistake_rate: float = 0.5   # share of warm-up programs with the template's slip
    grpo_steps: int = 200
    generations: int = 8
    prompts_per_step: int = 2
    learning_rate: float = 1e-4
    temperature: float = 0.8
    eval_problems: int = 100
    max_new_tokens: int = 192      # the longest warm-up response is 164 tokens: none is cut short

    @classmethod
    def quick(cls, languages: tuple[str, ...]) -> "DemoConfig":
        return cls(languages=languages, hidden_size=32, warm_steps=20, warm_problems=16, grpo_steps=2,
                   generations=2, prompts_per_step=2, eval_problems=4, max_new_tokens=24)

    def describe(self) -> str:
        return (f"Tiny Qwen2 model (hidden {self.hidden_size}, {self.layers} layers); {self.warm_steps} supervised "
                f"warm-up steps (batch 8) on {self.warm_problems} synthetic problems, "
                f"{self.mistake_rate:.0%} of their programs with the template's classic slip; "
                f"{self.grpo_steps} GRPO steps of {self.prompts_per_step} prompts x {self.generations} "
                f"completions (full fine-tuning, lr {self.learning_rate:g}, temperature {self.temperature:g}); "
                f"greedy accuracy on {self.eval_problems} held-out synthetic problems.")


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lowres_rl.demo", description=__doc__.split("\n")[0])
    parser.add_argument(*spellings("output_dir"), default="outputs/demo", help="where runs and the report go (default %(default)s)")
    parser.add_argument("--lang", default="prolog", help="language(s) to train and measure, comma-separated "
                        "(those whose plugin writes synthetic programs, Language.synthetic: prolog, lisp, hy built in; default %(default)s)")
    parser.add_argument("--seeds", help="comma-separated seeds, one full run each (default 0,1,2; with --quick, 0)")
    parser.add_argument(*spellings("mistake_rate"), type=float, help="share of warm-up programs with their template's "
                        f"slip, 0 to 1 (default {DemoConfig.mistake_rate}; 0 is the control without slips)")
    parser.add_argument(*spellings("grpo_steps"), type=int, help=f"GRPO steps (default {DemoConfig.grpo_steps})")
    parser.add_argument(*spellings("warm_steps"), type=int, help=f"supervised warm-up steps (default {DemoConfig.warm_steps})")
    parser.add_argument(*spellings("eval_problems"), type=int, help=f"held-out problems (default {DemoConfig.eval_problems})")
    parser.add_argument("--quick", action="store_true", help="shrink everything: checks the pipeline in about a minute")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads, fixed so that a rerun (on any "
                        "machine with this many cores) sums floats in the same order (default %(default)s)")
    return parser


def make_repeatable(threads: int) -> None:
    """Fixed threads and deterministic algorithms (seeds are passed to every stage)."""
    import torch

    if threads < 1:
        raise SystemExit(f"error: --threads must be at least 1, got {threads}")
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True, warn_only=True)


def config_from(args: argparse.Namespace) -> DemoConfig:
    from lowres_rl.offline.synthetic import synthetic_languages

    languages = tuple(name.strip() for name in args.lang.split(",") if name.strip())
    known = synthetic_languages()
    unknown = [name for name in languages if name not in known]
    if unknown or not languages:
        raise SystemExit(f"error: --lang must name languages with synthetic solutions ({', '.join(known)}), "
                         f"got {args.lang!r}")
    base = DemoConfig.quick(languages) if args.quick else DemoConfig(languages=languages)
    overrides = {k: v for k, v in (("grpo_steps", args.grpo_steps), ("warm_steps", args.warm_steps),
                                   ("eval_problems", args.eval_problems)) if v is not None}
    if any(v <= 0 for v in overrides.values()):
        raise SystemExit(f"error: step and problem counts must be positive, got {overrides}")
    if args.mistake_rate is not None:
        if not 0.0 <= args.mistake_rate <= 1.0:
            raise SystemExit(f"error: --mistake_rate must lie between 0 and 1, got {args.mistake_rate}")
        overrides["mistake_rate"] = args.mistake_rate
    return DemoConfig(**{**base.__dict__, **overrides})


def seeds_from(text: str) -> list[int]:
    try:
        seeds = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        seeds = []
    if not seeds or any(s < 0 for s in seeds):
        raise SystemExit(f"error: --seeds must be comma-separated non-negative integers, got {text!r}")
    return seeds


def prepare(config: DemoConfig, seed: int, root: Path) -> Path:
    """Tiny model + warm start, and the synthetic train / held-out files; returns the model dir."""
    from lowres_rl.offline.synthetic import generate, to_row
    from lowres_rl.offline.tiny import build_tiny

    root.mkdir(parents=True, exist_ok=True)
    train = generate(config.warm_problems, seed=seed * 1000 + 1)  # the warm start's problems, and GRPO's
    seen = {p.question for p in train}
    heldout = [p for p in generate(2 * config.eval_problems, seed=seed * 1000 + 2) if p.question not in seen]
    for name, problems in (("train", train), ("heldout", heldout[:config.eval_problems])):
        with open(root / f"{name}.jsonl", "w", encoding="utf-8") as f:
            f.writelines(json.dumps(to_row(p)) + "\n" for p in problems)
    return build_tiny(root / "warm", hidden_size=config.hidden_size, layers=config.layers, seed=seed,
                      warm_start_steps=config.warm_steps, warm_languages=config.languages,
                      warm_problems=train, warm_mistake_rate=config.mistake_rate)


def measure(config: DemoConfig, model: Path, root: Path, name: str) -> dict:
    """Greedy accuracy on the held-out problems, through `python -m lowres_rl.evaluate`."""
    import lowres_rl.evaluation.main as evaluate

    argv = ["--lang", ",".join(config.languages), "--model", str(model), "--dataset", str(root / "heldout.jsonl"),
            "--bare-prompt", "--max-new-tokens", str(config.max_new_tokens), "--batch-size", "32",
            "--output_dir", str(root / name), "--workers", "2"]
    if evaluate.main(argv) != 0:
        raise RuntimeError(f"evaluation {name} failed")
    return json.loads((root / name / "results.json").read_text())["figures"]


def grpo(config: DemoConfig, model: Path, root: Path, seed: int) -> Path:
    """GRPO with the real grader, through `python -m lowres_rl.train`; returns the trained model's dir."""
    import lowres_rl.training.main as train

    output = root / "grpo"
    batch = config.generations * config.prompts_per_step
    argv = ["--lang", ",".join(config.languages), "--model_name_or_path", str(model),
            "--dataset", str(root / "train.jsonl"), "--bare_prompt", "true",
            "--max_steps", str(config.grpo_steps), "--save_steps", str(config.grpo_steps),
            "--per_device_train_batch_size", str(batch), "--num_generations", str(config.generations),
            "--gradient_accumulation_steps", "1", "--max_completion_length", str(config.max_new_tokens),
            "--learning_rate", str(config.learning_rate), "--warmup_steps", "0", "--weight_decay", "0",
            "--lr_scheduler_type", "constant", "--use_peft", "false",  # a tiny model: train all of it
            "--beta", "0", "--temperature", str(config.temperature), "--max_grad_norm", "1.0",
            "--timeout", "1", "--workers", "2",
            "--output_dir", str(output), "--seed", str(seed), "--data_seed", str(seed), "--logging_steps", "1"]
    if train.main(argv) != 0:
        raise RuntimeError("GRPO training failed")
    return output


def reward_curve(output: Path) -> list[tuple[int, float]]:
    """(step, mean reward) from the trainer's log history in the last checkpoint."""
    states = sorted(output.glob("checkpoint-*/trainer_state.json"), key=lambda p: int(p.parent.name.split("-")[1]))
    history = json.loads(states[-1].read_text())["log_history"] if states else []
    return [(h["step"], h["reward"]) for h in history if "reward" in h]


def run_seed(config: DemoConfig, seed: int, root: Path) -> dict:
    started = time.monotonic()
    model = prepare(config, seed, root)
    before = measure(config, model, root, "before")
    trained = grpo(config, model, root, seed)
    after = measure(config, trained, root, "after")
    return {"seed": seed, "before": {k: v["accuracy"] for k, v in before.items()},
            "after": {k: v["accuracy"] for k, v in after.items()},
            "rewards": reward_curve(trained), "minutes": round((time.monotonic() - started) / 60, 1)}


def table(runs: list[dict]) -> str:
    lines = ["| seed | language | before | after | change (points) | minutes |", "|---|---|---|---|---|---|"]
    for run in runs:
        for lang, before in run["before"].items():
            after = run["after"][lang]
            lines.append(f"| {run['seed']} | {lang} | {100 * before:.1f}% | {100 * after:.1f}% | "
                         f"{100 * (after - before):+.1f} | {run['minutes']} |")
    return "\n".join(lines)


def report(runs: list[dict], output: Path, config: DemoConfig) -> Path:
    from lowres_rl.evaluation.plots import demo_plots

    demo_plots(runs, output)
    text = (f"# lowres-rl offline demo\n\n{config.describe()}\n\n{table(runs)}\n\n"
            "Before: the warm-started model; after: the same model after GRPO with the real grader and "
            "interpreters. What GRPO had to learn, from the reward alone: which of the programs the warm "
            "model writes for a kind of problem are right (see lowres_rl.offline.demo).\n\n"
            f"![reward curve](rewards.png)\n\n![accuracy before and after](accuracy.png)\n")
    (output / "report.md").write_text(text, encoding="utf-8")
    (output / "runs.json").write_text(json.dumps(runs, indent=2), encoding="utf-8")
    return output / "report.md"


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    args = make_parser().parse_args(argv)
    config = config_from(args)
    seeds = seeds_from(args.seeds or ("0" if args.quick else "0,1,2"))
    make_repeatable(args.threads)
    output = Path(args.output_dir)
    runs = [run_seed(config, seed, output / f"seed-{seed}") for seed in seeds]
    path = report(runs, output, config)
    print(table(runs))
    print(f"\nreport: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
