"""Run from the repository root (SWI-Prolog installed, sacrebleu installed: pip install -e '.[research]'):

    python benchmarks/similarity_throughput.py            # 512 completions, best of 5 (about 1 min)
    python benchmarks/similarity_throughput.py --quick    # 64 completions, best of 2
    python benchmarks/similarity_throughput.py --languages prolog,lisp --batch 1024

Grading throughput with the similarity components (bleu, rouge_l, token_f1 of
lowres_rl.grading.similarity) on against off, in the same process on the same batch: the default
preset, then the same preset `with_similarity` and every row given a reference program. Completions
are synthetic problems' correct programs in the response format (lowres_rl.offline.synthetic);
each row's reference is another problem's program (so scores are partial, as in training). The two
gradings alternate, --repeats times each, and the fastest of each counts (the pools are warm
first, as during training; the token cache is emptied before each grading with similarity, since
training never grades the same completions twice). Also printed: the three metrics alone, in microseconds per pair.
It measures and asserts nothing; the exit status is 0.
"""
from __future__ import annotations

import argparse
import os
import time

from lowres_rl.data.prompt import Example, render_response, shown_query
from lowres_rl.grading.presets import PRESETS, with_similarity
from lowres_rl.grading.rewards import Grader
import lowres_rl.grading.similarity as similarity
from lowres_rl.grading.similarity import METRICS, tokens
from lowres_rl.languages import Limits
from lowres_rl.offline.synthetic import generate


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python benchmarks/similarity_throughput.py",
                                     description=__doc__.split("\n\n")[2].split("\n")[0])
    parser.add_argument("--languages", default="prolog", help="comma-separated languages (default %(default)s)")
    parser.add_argument("--batch", type=int, default=512, help="completions per grading (default %(default)s)")
    parser.add_argument("--repeats", type=int, default=5, help="gradings of each kind; the fastest counts")
    parser.add_argument("--workers", type=int, help="sandbox workers (default: all cores)")
    parser.add_argument("--quick", action="store_true", help="64 completions, 2 repeats")
    return parser


def batch(language: str, n: int) -> tuple[list[str], list[str], list[str], list[str]]:
    """(completions, golds, questions, references) for `n` synthetic problems."""
    problems = generate(2 * n, seed=7)
    query = shown_query(language)
    texts = [render_response(Example(p.question, p.reasoning, p.solutions[language], query)) for p in problems[:n]]
    references = [p.solutions[language] + "\n" + query for p in problems[n:]]
    return texts, [p.answer for p in problems[:n]], [p.question for p in problems[:n]], references


def measure(language: str, args: argparse.Namespace) -> dict[str, float]:
    texts, golds, questions, references = batch(language, args.batch)
    plain = Grader(PRESETS["default"], limits=Limits(), workers=args.workers, language=language)
    similar = Grader(with_similarity(PRESETS["default"]), limits=Limits(), workers=args.workers, language=language)
    plain.grade(texts[:16], golds[:16], language, questions[:16])  # warm pools
    off, on = [], []
    for _ in range(args.repeats):
        started = time.perf_counter()
        plain.grade(texts, golds, language, questions)
        off.append(time.perf_counter() - started)
        similarity._tokens.cache_clear()  # a training batch brings new completions: no token cached
        started = time.perf_counter()
        grades = similar.grade(texts, golds, language, questions, references)
        on.append(time.perf_counter() - started)
    assert all("bleu" in g.scores for g in grades), "similarity was not computed"
    programs = [t.split("<code>\n", 1)[1].split("\n</code>", 1)[0] for t in texts]
    similarity._tokens.cache_clear()
    started = time.perf_counter()
    for program, reference in zip(programs, references):
        for metric in METRICS.values():
            metric(program, reference, language)
    alone = (time.perf_counter() - started) / len(programs) * 1e6
    mean_tokens = sum(len(tokens(r, language)) for r in references) / len(references)
    return {"off": min(off), "on": min(on), "alone_us": alone, "tokens": mean_tokens,
            "bleu": sum(g.scores["bleu"] for g in grades) / len(grades)}


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    args = make_parser().parse_args(argv)
    if args.quick:
        args.batch, args.repeats = 64, 2
    print(f"load average at start: {os.getloadavg()[0]:.2f}; {os.cpu_count()} cores")
    results = {}
    for language in [name.strip() for name in args.languages.split(",") if name.strip()]:
        r = results[language] = measure(language, args)
        n = args.batch
        print(f"{language}: {n} completions (references of {r['tokens']:.0f} tokens on average, mean BLEU "
              f"{r['bleu']:.2f}): similarity off {r['off']:.3f} s ({n / r['off']:.0f} prog/s), on {r['on']:.3f} s "
              f"({n / r['on']:.0f} prog/s); on/off time ratio {r['on'] / r['off']:.2f}x; the three metrics alone "
              f"{r['alone_us']:.0f} us per completion")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    return results


if __name__ == "__main__":
    main()
