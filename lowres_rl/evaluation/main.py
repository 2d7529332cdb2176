"""Evaluation: `python -m lowres_rl.evaluate --lang prolog,lisp,hy --model M [--adapter LORA_DIR]`.

    python -m lowres_rl.evaluate --lang prolog --adapter outputs/grpo           # GSM8K test, greedy
    python -m lowres_rl.evaluate --lang prolog,lisp,hy --model outputs/tiny \\
        --dataset ../shared/data/gsm8k/test.jsonl --limit 20 --output-dir outputs/eval-smoke
    python -m lowres_rl.evaluate --protocol paper --lang prolog                  # any-of-4, all-of-4
    python -m lowres_rl.evaluate --samples 10 --temperature 0.8 --pass-k 1,5,10  # pass@k
    python -m lowres_rl.evaluate --tries 4 --repair-turns 2                      # best-of-4, repair
    python -m lowres_rl.evaluate --completions generated.jsonl --lang prolog     # no model needed
    python -m lowres_rl.evaluate compare outputs/eval-base outputs/eval-grpo     # two runs

Each question is asked once per language (chat prompt from lowres_rl.data.prompt), the completions are
graded by lowres_rl.grading.rewards.Grader (programs run in the sandbox), and per language we report:
accuracy (greedy pass@1 by default; with several samples, the mean share of correct samples, which
is the unbiased pass@1), the hard-coded-answer rate, pass@k (Chen et al. 2021) and any-of-n /
all-of-n with several samples, best-of-N with --tries, accuracy after each repair turn with
--repair-turns, the strict format rate, counts by execution status, mean completion tokens and
mean execution seconds. `--protocol paper` is the paper's evaluation (4 samples, temperature 0.1,
top-p 0.95, top-k 50, 1024 new tokens); what the paper calls pass@1 is any-of-4 here and its
"strict" accuracy is all-of-4.

Decoding is exactly what the flags ask, nothing inherited from the model's generation_config.json
(see lowres_rl.evaluation.generation); results.json's settings.generation records what was used and ignored.
The output directory gets results.json (settings, every figure per language, and per-problem
records with each completion, status, executed answer, gold and correctness), results.md (one
table row per language), accuracy.png and statuses.png. `compare` prints two runs' figures side by
side with the difference in points, and writes compare.png.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any, Sequence

import lowres_rl.training.checks as checks
import lowres_rl.evaluation.metrics as metrics
from lowres_rl.grading.answers import gold_answer
from lowres_rl.evaluation.generation import Generator, Sampling
from lowres_rl.cli import add_limit_arguments, limits_from
from lowres_rl.languages import available_languages, get_language
from lowres_rl.evaluation.report import markdown, write_outputs
from lowres_rl.training.main import DEFAULT_MODEL

log = logging.getLogger("lowres_rl.evaluation.main")

PAPER = dict(samples=4, temperature=0.1, top_p=0.95, top_k=50, max_new_tokens=1024)
DEFAULT_MAX_NEW_TOKENS = 1024
DEFAULT_SAMPLING_TEMPERATURE = 0.8  # when --samples/--tries ask for several samples and no --temperature


# -- command line ------------------------------------------------------------------------------

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


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lowres_rl.evaluate", description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Compare two runs: python -m lowres_rl.evaluate compare RUN_A RUN_B "
               "(see `python -m lowres_rl.evaluate compare --help`).")
    what = parser.add_argument_group("what to evaluate")
    what.add_argument("--lang", default="prolog", help="language(s), comma-separated (installed: "
                      f"{', '.join(available_languages())}); with --completions, the language of lines "
                      "without a 'lang' field (default %(default)s)")
    what.add_argument("--model", help=f"hub id or local directory of the model (default {DEFAULT_MODEL}); "
                      "with --completions only its tokenizer is loaded, to count completion tokens")
    what.add_argument("--model-revision", help="hub revision (branch, tag or commit) of --model")
    what.add_argument("--adapter", help="directory of a peft LoRA adapter to load on top of --model "
                      "(e.g. the output directory of lowres_rl.training.main)")
    what.add_argument("--completions", help="JSONL of completions made elsewhere, graded without a model. "
                      "Each line: 'completion', 'answer' (gold, '#### 18' or '18'), optional 'lang', "
                      "'question' (for the hard-coding check), 'index' (problem id: lines sharing it are "
                      "samples of one problem; default: each line its own problem) and 'tokens'")
    data = parser.add_argument_group("dataset")
    data.add_argument("--dataset", default="openai/gsm8k", help="hub dataset id, or a local .jsonl/.parquet/"
                      ".csv file or a directory holding <split>*.jsonl (default %(default)s)")
    data.add_argument("--dataset-config", default="main", help="hub dataset config (default %(default)s)")
    data.add_argument("--split", default="test", help="dataset split or file prefix (default %(default)s)")
    data.add_argument("--question-column", default="question", help="column holding the question")
    data.add_argument("--answer-column", default="answer", help="column holding the gold answer "
                      "('... #### 18' or a bare number)")
    data.add_argument("--limit", type=_positive, help="evaluate only the first N rows")
    prompt = parser.add_argument_group("prompt")
    prompt.add_argument("--variant", default="paper", choices=["paper", "answer"],
                        help="response format: 'paper' (<reasoning><code><query>) or 'answer' "
                             "(<reasoning><answer>) (default %(default)s)")
    prompt.add_argument("--prompt-style", default="full", choices=["full", "compact"],
                        help="system prompt: 'full' (format rules and the language's conventions) or 'compact' "
                             "(about 100 tokens, the paper's budget; as trained by the paper recipes) (default %(default)s)")
    prompt.add_argument("--shots", type=int, default=0, choices=range(6), metavar="{0..5}",
                        help="worked examples in the prompt: 0, 1 or up to 5 (default %(default)s)")
    prompt.add_argument("--bare-prompt", action="store_true",
                        help="ask the question alone, without the system prompt (tiny offline models "
                             "warm-started that way; see python -m lowres_rl.offline.tiny --warm-start-steps)")
    decoding = parser.add_argument_group("decoding")
    decoding.add_argument("--protocol", default="standard", choices=["standard", "paper"],
                          help="'standard': greedy unless --samples/--temperature say otherwise; 'paper': "
                               "4 samples, temperature 0.1, top-p 0.95, top-k 50, 1024 new tokens, "
                               "reported as any-of-4 and all-of-4 (default %(default)s)")
    decoding.add_argument("--samples", type=_positive, help="samples per problem (default 1, greedy); "
                          "above 1 they are sampled and pass@k, any-of-n and all-of-n are reported")
    decoding.add_argument("--temperature", type=float, help="sampling temperature; 0 is greedy (default: "
                          f"0 with one sample, {DEFAULT_SAMPLING_TEMPERATURE} with several)")
    decoding.add_argument("--top-p", type=float, help="nucleus sampling mass (default 1.0: off)")
    decoding.add_argument("--top-k", type=_positive, help="top-k sampling (default: off)")
    decoding.add_argument("--max-new-tokens", type=_positive,
                          help=f"new tokens per completion (default {DEFAULT_MAX_NEW_TOKENS})")
    decoding.add_argument("--seed", type=int, default=0, help="sampling seed (default %(default)s)")
    decoding.add_argument("--pass-k", type=_int_list, help="k values for pass@k, comma-separated "
                          "(default: 1 and the number of samples); each k needs at least k samples")
    decoding.add_argument("--tries", type=_positive, help="best-of-N: a problem is solved when any of its "
                          "first N samples that executes successfully agrees with gold (also reported: "
                          "whether the first one that executes does); draws at least N samples")
    decoding.add_argument("--repair-turns", type=_natural, default=0, help="after a failed execution, show "
                          "the model the interpreter's status and error in a follow-up user turn and let "
                          "it try again, up to R times; accuracy is reported after each turn (default 0)")
    backend = parser.add_argument_group("generation backend")
    backend.add_argument("--backend", default="hf", choices=["hf", "vllm", "vllm-server"],
                         help="'hf': batched transformers generate; 'vllm': vLLM in this process (pip install "
                              "'lowres-rl[vllm]'); 'vllm-server': a running `trl vllm-serve --model M` at "
                              "--vllm-server-url (default %(default)s)")
    backend.add_argument("--vllm-server-url", default="http://localhost:8000",
                         help="with --backend vllm-server: the server's address (default %(default)s)")
    backend.add_argument("--batch-size", type=_positive, default=8,
                         help="prompts per generate call with --backend hf (default %(default)s)")
    backend.add_argument("--dtype", default="auto", choices=["auto", "bfloat16", "float16", "float32"],
                         help="model weights dtype; auto is the model's own on GPU, float32 on CPU")
    backend.add_argument("--load-in-4bit", action="store_true", help="4-bit quantisation (bitsandbytes)")
    backend.add_argument("--load-in-8bit", action="store_true", help="8-bit quantisation (bitsandbytes)")
    backend.add_argument("--attn-implementation", help="attention kernel, e.g. sdpa or flash_attention_2")
    grading = parser.add_argument_group("grading")
    add_limit_arguments(grading)
    grading.add_argument("--workers", type=_positive, help="sandbox workers per language (default: this process's share of the CPUs it may use: affinity and cgroup quota, over LOCAL_WORLD_SIZE)")
    parser.add_argument("--output-dir", default="outputs/eval",
                        help="where results.json, results.md and the plots go (default %(default)s)")
    return parser


def languages_of(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def resolve_sampling(args: argparse.Namespace) -> Sampling:
    """The decoding settings the flags and protocol ask for; SetupError for clashing flags."""
    if args.protocol == "paper":
        clashes = [f"--{name.replace('_', '-')} {getattr(args, name)}" for name, value in PAPER.items()
                   if getattr(args, name) is not None and getattr(args, name) != value]
        if clashes:
            raise checks.SetupError(f"--protocol paper fixes {', '.join(f'{k}={v}' for k, v in PAPER.items())}; "
                                    f"drop {', '.join(clashes)} or use --protocol standard")
        if args.tries and args.tries > PAPER["samples"]:
            raise checks.SetupError(f"--protocol paper draws {PAPER['samples']} samples; --tries {args.tries} "
                                    f"needs more (use at most {PAPER['samples']}, or --protocol standard)")
        return Sampling(n=PAPER["samples"], temperature=PAPER["temperature"], top_p=PAPER["top_p"],
                        top_k=PAPER["top_k"], max_new_tokens=PAPER["max_new_tokens"], seed=args.seed)
    n = max(args.samples or 1, args.tries or 1)
    temperature = args.temperature if args.temperature is not None else (
        DEFAULT_SAMPLING_TEMPERATURE if n > 1 else 0.0)
    try:
        return Sampling(n=n, temperature=temperature, top_p=1.0 if args.top_p is None else args.top_p,
                        top_k=args.top_k, max_new_tokens=args.max_new_tokens or DEFAULT_MAX_NEW_TOKENS,
                        seed=args.seed)
    except ValueError as exc:
        raise checks.SetupError(f"decoding flags: {exc}") from None


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["compare"]:
        from lowres_rl.evaluation.compare import main as compare_main

        return compare_main(argv[1:])
    args = make_parser().parse_args(argv)
    try:
        results = evaluate_completions(args) if args.completions else evaluate_model(args)
    except checks.SetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    output = write_outputs(results, args.output_dir)
    print(markdown(results))
    log.info("results in %s", output)
    return 0


# -- evaluation --------------------------------------------------------------------------------

def make_grader(args: argparse.Namespace, language: str) -> Any:
    from lowres_rl.grading.rewards import Grader

    try:
        limits = limits_from(args)
    except ValueError as exc:
        raise checks.SetupError(str(exc)) from None
    return Grader("default", variant=args.variant, limits=limits, workers=args.workers, language=language)


def load_questions(args: argparse.Namespace) -> tuple[list[str], list[str]]:
    """Questions and canonical gold answers from --dataset (SetupError naming what is wrong)."""
    from lowres_rl.data.dataset import load_rows, validate

    rows = checks.dataset(lambda: load_rows(args.dataset, args.dataset_config, args.split))
    if args.limit:
        rows = rows.select(range(min(args.limit, len(rows))))
    checks.dataset(lambda: validate(rows, args.question_column, args.answer_column))
    if len(rows) == 0:
        raise checks.SetupError(f"dataset {args.dataset!r} split {args.split!r} has no rows")
    return ([str(q) for q in rows[args.question_column]],
            [gold_answer(str(a)) for a in rows[args.answer_column]])


def sample_record(text: str, grade: Any, tokens: int | None) -> dict[str, Any]:
    """One graded completion as stored in results.json (the input of lowres_rl.evaluation.metrics)."""
    return {"completion": text, "status": grade.status, "answer": grade.answer, "correct": grade.correct,
            "hardcoded": grade.hardcoded, "strict_format": grade.strict_format, "error": grade.error,
            "seconds": round(grade.seconds, 4), "tokens": tokens}


def problem_record(index: Any, question: str, gold: str, samples: list[dict[str, Any]]) -> dict[str, Any]:
    for sample in samples:
        sample.setdefault("repairs", [])
    correct = sum(bool(s["correct"]) for s in samples)
    return {"index": index, "question": question, "gold": gold, "n_samples": len(samples),
            "n_correct": correct, "solved": correct > 0, "samples": samples}


def evaluate_model(args: argparse.Namespace) -> dict[str, Any]:
    """Generate with the model, grade, and compute the figures of every language."""
    from lowres_rl.evaluation.generation import check_adapter, check_backend, load_generator
    from lowres_rl.data.prompt import build_messages

    languages = languages_of(args.lang)
    checks.languages(languages)
    check_backend(args.backend, args.load_in_4bit or args.load_in_8bit)
    check_adapter(args.adapter)
    sampling = resolve_sampling(args)
    questions, golds = load_questions(args)
    model = args.model or DEFAULT_MODEL
    _seed(args.seed)
    generator = load_generator(args.backend, model, args.model_revision, args.adapter, args.dtype,
                               args.load_in_4bit, args.load_in_8bit, args.attn_implementation,
                               args.batch_size, args.seed, args.vllm_server_url)
    grader = make_grader(args, languages[0])
    figures, problems = {}, {}
    for language in languages:
        started = time.monotonic()
        conversations = [build_messages(q, language, variant=args.variant, shots=args.shots,
                                        system=not args.bare_prompt, style=args.prompt_style) for q in questions]
        outputs = generator.generate(conversations, sampling, desc=f"{language}: generating")
        flat = [g for out in outputs for g in out]  # problem-major: problem i's samples are i*n .. i*n+n-1
        grades = grader.grade([g.text for g in flat], _repeat(golds, sampling.n), language,
                              _repeat(questions, sampling.n))
        records = [sample_record(g.text, grade, g.tokens) for g, grade in zip(flat, grades)]
        problems[language] = [problem_record(i, q, gold, records[i * sampling.n:(i + 1) * sampling.n])
                              for i, (q, gold) in enumerate(zip(questions, golds))]
        if args.repair_turns:
            repair(generator, grader, language, conversations, problems[language], sampling, args.repair_turns)
        figures[language] = _figures(problems[language], args, language)
        log.info("%s: accuracy %.1f%% over %d problems (%.0f s)", language,
                 100 * figures[language]["accuracy"], len(questions), time.monotonic() - started)
    settings = {**_settings(args), "mode": "model", "model": model, "sampling": sampling.to_dict(),
                "generation": generator.settings(sampling),
                "accuracy": "greedy pass@1" if sampling.greedy else f"pass@1: mean share of correct samples, "
                f"{sampling.n} per problem at temperature {sampling.temperature}"}
    return {"settings": settings, "figures": figures, "problems": problems}


def _repeat(values: Sequence[str], n: int) -> list[str]:
    return [v for v in values for _ in range(n)]


def _seed(seed: int) -> None:
    from transformers import set_seed

    set_seed(seed)


def feedback(language: str, attempt: dict[str, Any]) -> str:
    """The follow-up user turn after a failed execution: the interpreter's status and error."""
    from lowres_rl.data.prompt import load_prompt

    title = load_prompt(get_language(language).prompt_file()).title
    error = attempt["error"].strip() or "(the interpreter gave no message)"
    return (f"Running your {title} program ended with status `{attempt['status']}`:\n\n{error}\n\n"
            f"Fix the program and answer again, in the same format.")


def history(conversation: list[dict[str, str]], language: str, sample: dict[str, Any]) -> list[dict[str, str]]:
    """The prompt, then each failed attempt so far followed by its feedback turn."""
    messages = list(conversation)
    for attempt in [sample, *sample["repairs"]]:
        messages.append({"role": "assistant", "content": attempt["completion"]})
        messages.append({"role": "user", "content": feedback(language, attempt)})
    return messages


def repair(generator: Generator, grader: Any, language: str, conversations: list[list[dict[str, str]]],
           problems: list[dict[str, Any]], sampling: Sampling, turns: int) -> None:
    """The "interpreter as a tool" protocol: every sample whose latest attempt did not execute
    (status not ok) gets the error back and one more try, up to `turns` times. Each new attempt
    is appended to the sample's `repairs`; an attempt that executes, right or wrong, is final
    (the model never sees the gold answer)."""
    one = dataclasses.replace(sampling, n=1)
    for turn in range(1, turns + 1):
        pending = [(p, sample, conversations[i]) for i, p in enumerate(problems) for sample in p["samples"]
                   if len(sample["repairs"]) == turn - 1 and metrics.attempt_at(sample, turn - 1)["status"] != "ok"]
        if not pending:
            log.info("%s: repair turn %d: every program executed; stopping", language, turn)
            return
        chats = [history(conversation, language, sample) for _, sample, conversation in pending]
        outputs = generator.generate(chats, one, desc=f"{language}: repair turn {turn}")
        grades = grader.grade([out[0].text for out in outputs], [p["gold"] for p, _, _ in pending], language,
                              [p["question"] for p, _, _ in pending])
        for (problem, sample, _), out, grade in zip(pending, outputs, grades):
            sample["repairs"].append(sample_record(out[0].text, grade, out[0].tokens))
        log.info("%s: repair turn %d: %d attempts, %d now correct", language, turn, len(pending),
                 sum(g.correct for g in grades))


def _figures(problems: list[dict[str, Any]], args: argparse.Namespace, language: str) -> dict[str, Any]:
    sizes = [p["n_samples"] for p in problems]
    ks = args.pass_k or ([1, max(sizes)] if max(sizes) > 1 else [1])
    skipped = [k for k in ks if k > min(sizes)]
    if skipped:
        log.warning("%s: no pass@k for k=%s: some problems have only %d sample(s)", language,
                    ",".join(map(str, skipped)), min(sizes))
    return metrics.language_figures(problems, ks, args.tries or 0, args.repair_turns)


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    return {**vars(args), "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


# -- completions made elsewhere ----------------------------------------------------------------

def read_completions(path: str | Path, default_languages: list[str]) -> list[dict[str, Any]]:
    """The lines of a completions file, checked: SetupError naming the line and the problem."""
    path = Path(path)
    if not path.is_file():
        raise checks.SetupError(f"--completions file {str(path)!r} does not exist")
    rows = []
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise checks.SetupError(f"{where}: not JSON ({exc})") from None
            if not isinstance(row, dict) or not isinstance(row.get("completion"), str):
                raise checks.SetupError(f"{where}: expected an object with a string 'completion'")
            if "answer" not in row:
                raise checks.SetupError(f"{where}: no 'answer' (the gold answer, '#### 18' or '18')")
            try:
                row["gold"] = gold_answer(str(row["answer"]))
            except ValueError as exc:
                raise checks.SetupError(f"{where}: {exc}") from None
            if not row.get("lang"):
                if len(default_languages) != 1:
                    raise checks.SetupError(f"{where}: no 'lang' field, and --lang {','.join(default_languages)} "
                                            f"does not name exactly one language to default to")
                row["lang"] = default_languages[0]
            row["line"] = number
            rows.append(row)
    if not rows:
        raise checks.SetupError(f"--completions file {str(path)!r} holds no completions")
    return rows


def _group(rows: list[dict[str, Any]]) -> dict[str, dict[Any, list[dict[str, Any]]]]:
    """language -> problem id -> its lines, in file order; a line without 'index' is its own problem."""
    grouped: dict[str, dict[Any, list[dict[str, Any]]]] = {}
    for row in rows:
        key = row["index"] if row.get("index") is not None else f"line {row['line']}"
        problem = grouped.setdefault(row["lang"], {}).setdefault(key, [])
        if problem and problem[0]["gold"] != row["gold"]:
            raise checks.SetupError(f"line {row['line']}: problem {key!r} ({row['lang']}) has gold "
                                    f"{row['gold']} here but {problem[0]['gold']} on line {problem[0]['line']}")
        problem.append(row)
    return grouped


def evaluate_completions(args: argparse.Namespace) -> dict[str, Any]:
    """Grade a completions file (see --completions) and compute the figures of every language."""
    for flag, bad in (("--samples", args.samples), ("--repair-turns", args.repair_turns),
                      ("--adapter", args.adapter), ("--protocol paper", args.protocol == "paper"),
                      ("--temperature", args.temperature is not None), (f"--backend {args.backend}", args.backend != "hf")):
        if bad:
            raise checks.SetupError(f"{flag} needs a model generating; with --completions the samples are "
                                    f"those in the file (group them into problems with an 'index' field)")
    rows = read_completions(args.completions, languages_of(args.lang))
    grouped = _group(rows)
    checks.languages(sorted(grouped))
    grader = make_grader(args, rows[0]["lang"])
    grades = grader.grade([r["completion"] for r in rows], [r["gold"] for r in rows], [r["lang"] for r in rows],
                          [str(r.get("question") or "") for r in rows])
    tokens = _token_counts(rows, args)
    for row, grade, count in zip(rows, grades, tokens):
        row["record"] = sample_record(row["completion"], grade, count)
    figures, problems = {}, {}
    for language, by_id in grouped.items():
        problems[language] = [problem_record(key, str(lines[0].get("question") or ""), lines[0]["gold"],
                                             [line["record"] for line in lines]) for key, lines in by_id.items()]
        figures[language] = _figures(problems[language], args, language)
    settings = {**_settings(args), "mode": "completions",
                "accuracy": "mean share of correct samples per problem (greedy pass@1 with one sample each)"}
    return {"settings": settings, "figures": figures, "problems": problems}


def _token_counts(rows: list[dict[str, Any]], args: argparse.Namespace) -> list[int | None]:
    """A line's 'tokens' field, else its length under --model's tokenizer, else unknown (None)."""
    tokenizer = None
    if args.model and any(not isinstance(r.get("tokens"), int) for r in rows):
        from lowres_rl.evaluation.generation import load_tokenizer

        tokenizer = load_tokenizer(args.model, args.model_revision)
    counts: list[int | None] = []
    for row in rows:
        if isinstance(row.get("tokens"), int):
            counts.append(row["tokens"])
        elif tokenizer is not None:
            counts.append(len(tokenizer(row["completion"], add_special_tokens=False)["input_ids"]))
        else:
            counts.append(None)
    return counts


if __name__ == "__main__":
    sys.exit(main())
