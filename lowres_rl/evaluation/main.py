"""Evaluation: `python -m lowres_rl.evaluate --lang prolog,lisp,hy --model M [--adapter LORA_DIR]`.

    python -m lowres_rl.evaluate --lang prolog --adapter outputs/grpo           # GSM8K test, greedy
    python -m lowres_rl.evaluate --lang prolog,lisp,hy --model outputs/tiny \\
        --dataset ../shared/data/gsm8k/test.jsonl --limit 20 --output_dir outputs/eval-smoke
    python -m lowres_rl.evaluate --protocol paper --lang prolog                  # any-of-4, all-of-4
    python -m lowres_rl.evaluate --samples 10 --temperature 0.8 --pass_k 1,5,10  # pass@k
    python -m lowres_rl.evaluate --tries 4 --repair_turns 2                      # best-of-4, repair
    python -m lowres_rl.evaluate --completions generated.jsonl --lang prolog     # no model needed
    python -m lowres_rl.evaluate compare outputs/eval-base outputs/eval-grpo     # two runs

Each question is asked once per language (chat prompt from lowres_rl.data.prompt), the completions are
graded by lowres_rl.grading.rewards.Grader (programs run in the sandbox), and per language we report:
accuracy (greedy pass@1 by default; with several samples, the mean share of correct samples, which
is the unbiased pass@1), the hard-coded-answer rate, pass@k (Chen et al. 2021) and any-of-n /
all-of-n with several samples, best-of-N with --tries, accuracy after each repair turn with
--repair_turns, the strict format rate, counts by execution status, mean completion tokens and
mean execution seconds. `--protocol paper` is the paper's evaluation (4 samples, temperature 0.1,
top-p 0.95, top-k 50, 1024 new tokens); what the paper calls pass@1 is any-of-4 here and its
"strict" accuracy is all-of-4.

Decoding is exactly what the flags ask, nothing inherited from the model's generation_config.json
(see lowres_rl.evaluation.generation); results.json's settings.generation records what was used and ignored.
The output directory gets results.json (settings, every figure per language, and per-problem
records with each completion, status, executed answer, gold and correctness), results.md (one
table row per language), accuracy.png and statuses.png. `compare` prints two runs' figures side by
side with the difference in points, and writes compare.png.

Flags are spelled as train spells them (`--bare_prompt`, `--model_name_or_path`, `--output_dir`),
and accept hyphens (`--bare-prompt`) and `--model` too; the settings train and evaluate share are
declared once, in lowres_rl.settings. The work is in this package: sampling (decoding settings),
model (generate and grade), repair (the repair protocol), completions (--completions files),
records (what results.json holds) and report (results.md, results.json, plots).
"""
from __future__ import annotations

import argparse
import logging
import sys
from typing import Sequence

import lowres_rl.training.checks as checks
from lowres_rl.evaluation.completions import evaluate_completions
from lowres_rl.evaluation.diagnostics import diagnostics
from lowres_rl.evaluation.model import evaluate_model
from lowres_rl.evaluation.report import markdown, write_outputs
from lowres_rl.evaluation.sampling import DEFAULT_MAX_NEW_TOKENS, DEFAULT_SAMPLING_TEMPERATURE
from lowres_rl.languages import available_languages
from lowres_rl.settings import DATA, LIMITS, PROMPT, add_arguments, settings_from, spellings
from lowres_rl.training.main import DEFAULT_MODEL

log = logging.getLogger("lowres_rl.evaluation.main")


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def _natural(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text}")
    return value


def _int_list(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


def _flag(group: argparse._ArgumentGroup, name: str, *aliases: str, **kwargs) -> None:
    """An evaluate-only flag, spelled `--name` and `--name-with-hyphens` like the shared ones."""
    group.add_argument(*spellings(name, aliases), dest=name, **kwargs)


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lowres_rl.evaluate", description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Compare two runs: python -m lowres_rl.evaluate compare RUN_A RUN_B "
               "(see `python -m lowres_rl.evaluate compare --help`).")
    what = parser.add_argument_group("what to evaluate")
    add_arguments(what, ["lang"])
    _flag(what, "model_name_or_path", "--model", help=f"hub id or local directory of the model (default "
          f"{DEFAULT_MODEL}); with --completions only its tokenizer is loaded, to count completion tokens")
    _flag(what, "model_revision", help="hub revision (branch, tag or commit) of --model_name_or_path")
    _flag(what, "adapter", help="directory of a peft LoRA adapter to load on top of the model "
          "(e.g. the output directory of python -m lowres_rl.train)")
    _flag(what, "completions", help="JSONL of completions made elsewhere, graded without a model. "
          "Each line: 'completion', 'answer' (gold, '#### 18' or '18'), optional 'lang' (else --lang, "
          f"which must then name one language; installed: {', '.join(available_languages())}), "
          "'question' (for the hard-coding check), 'index' (problem id: lines sharing it are "
          "samples of one problem; default: each line its own problem) and 'tokens'")
    add_arguments(parser.add_argument_group("dataset"), DATA, defaults={"dataset_split": "test"})
    add_arguments(parser.add_argument_group("prompt"), PROMPT)
    decoding = parser.add_argument_group("decoding")
    _flag(decoding, "protocol", default="standard", choices=["standard", "paper"],
          help="'standard': greedy unless --samples/--temperature say otherwise; 'paper': "
               "4 samples, temperature 0.1, top-p 0.95, top-k 50, 1024 new tokens, "
               "reported as any-of-4 and all-of-4 (default %(default)s)")
    _flag(decoding, "samples", type=_positive, help="samples per problem (default 1, greedy); "
          "above 1 they are sampled and pass@k, any-of-n and all-of-n are reported")
    _flag(decoding, "temperature", type=float, help="sampling temperature; 0 is greedy (default: "
          f"0 with one sample, {DEFAULT_SAMPLING_TEMPERATURE} with several)")
    _flag(decoding, "top_p", type=float, help="nucleus sampling mass (default 1.0: off)")
    _flag(decoding, "top_k", type=_positive, help="top-k sampling (default: off)")
    _flag(decoding, "max_new_tokens", type=_positive,
          help=f"new tokens per completion (default {DEFAULT_MAX_NEW_TOKENS})")
    _flag(decoding, "seed", type=int, default=0, help="sampling seed (default %(default)s)")
    _flag(decoding, "pass_k", type=_int_list, help="k values for pass@k, comma-separated "
          "(default: 1 and the number of samples); each k needs at least k samples")
    _flag(decoding, "tries", type=_positive, help="best-of-N: a problem is solved when any of its "
          "first N samples that executes successfully agrees with gold (also reported: "
          "whether the first one that executes does); draws at least N samples")
    _flag(decoding, "repair_turns", type=_natural, default=0, help="after a failed execution, show "
          "the model the interpreter's status and error in a follow-up user turn and let "
          "it try again, up to R times; accuracy is reported after each turn (default 0)")
    backend = parser.add_argument_group("generation backend")
    _flag(backend, "backend", default="hf", choices=["hf", "vllm", "vllm-server"],
          help="'hf': batched transformers generate; 'vllm': vLLM in this process (pip install "
               "'lowres-rl[vllm]'); 'vllm-server': a running `trl vllm-serve --model M` at "
               "--vllm_server_url (default %(default)s)")
    _flag(backend, "vllm_server_url", default="http://localhost:8000",
          help="with --backend vllm-server: the server's address (default %(default)s)")
    _flag(backend, "batch_size", type=_positive, default=8,
          help="prompts per generate call with --backend hf (default %(default)s)")
    _flag(backend, "dtype", default="auto", choices=["auto", "bfloat16", "float16", "float32"],
          help="model weights dtype; auto is the model's own on GPU, float32 on CPU")
    _flag(backend, "load_in_4bit", action="store_true", help="4-bit quantisation (bitsandbytes)")
    _flag(backend, "load_in_8bit", action="store_true", help="8-bit quantisation (bitsandbytes)")
    _flag(backend, "attn_implementation", help="attention kernel, e.g. sdpa or flash_attention_2")
    add_arguments(parser.add_argument_group("grading"), [*LIMITS, "workers"])
    _flag(parser, "output_dir", default="outputs/eval",
          help="where results.json, results.md and the plots go (default %(default)s)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["compare"]:
        from lowres_rl.evaluation.compare import main as compare_main

        return compare_main(argv[1:])
    parser = make_parser()
    args = parser.parse_args(argv)
    settings_from(args, parser)  # a bad shared setting is a usage error, before anything loads
    try:
        results = evaluate_completions(args) if args.completions else evaluate_model(args)
    except checks.SetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    results["diagnostics"] = diagnostics(results["problems"])
    output = write_outputs(results, args.output_dir)
    print(markdown(results))
    log.info("results in %s", output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
