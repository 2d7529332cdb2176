"""`python -m lowres_rl.predict`: train and evaluate the run-free outcome predictor.

    python -m lowres_rl.predict train --completions RUN/completions.jsonl --output predictor.joblib
    python -m lowres_rl.predict eval --model predictor.joblib --completions RUN/completions.jsonl
    python -m lowres_rl.predict train --completions paper.jsonl --lang prolog --label run

`train` splits the programs of a completions file (seeded, by program: identical programs stay on
one side), fits on the training side and, when a test side exists, prints its scores. `eval`
scores a model on every program of a file it was not trained on: the held-out side of its own
training file, or all of another file. Labels are the executor's statuses (see --label).
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, Sequence

from lowres_rl.prediction.labels import (LABEL_SOURCES, TARGETS, Example, check_targets, label, read_examples,
                                         split, targets_of)
from lowres_rl.prediction.model import Predictor
from lowres_rl.prediction.scores import evaluate, table
from lowres_rl.settings import LIMITS, add_arguments, settings_from, spellings

log = logging.getLogger("lowres_rl.prediction.command")
LABEL_HELP = ("where labels come from: 'file' (each row's 'status', as the training log completions.jsonl and "
              "`python -m lowres_rl.grade` write it), 'run' (execute every program in the real sandbox), "
              "'auto' (the file's when every row has a status, else run; default)")


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lowres_rl.predict", description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n", 2)[2])
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="fit a predictor on a completions file")
    evaluation = commands.add_parser("eval", help="score a predictor on held-out completions")
    for sub in (train, evaluation):
        sub.add_argument("--completions", required=True,
                         help="JSONL file, one completion per line: 'completion' (a response) or 'code' "
                              "(+ optional 'query'), optional 'language'/'lang' and 'status'")
        sub.add_argument("--lang", default="prolog", help="language of rows without a 'language' or 'lang' field "
                                                          "(default %(default)s)")
        sub.add_argument("--label", default="auto", choices=LABEL_SOURCES, help=LABEL_HELP)
        sub.add_argument("--targets", default=",".join(TARGETS),
                         help="comma-separated targets (default: all of %(default)s)")
        sub.add_argument("--workers", type=int, help="sandbox workers per language with --label run "
                                                     "(default: all cores)")
        sub.add_argument("--json", dest="json_path", help="also write the scores and sizes as JSON here")
        add_arguments(sub, LIMITS)
    train.add_argument("--output", default="predictor.joblib", help="model file to write (default %(default)s)")
    train.add_argument(*spellings("test_fraction"), type=float, default=0.25,
                       help="share of distinct programs held out for testing, 0 to keep none (default %(default)s)")
    train.add_argument("--seed", type=int, default=0, help="seed of the split (default %(default)s)")
    evaluation.add_argument("--model", required=True, help="model file written by `train` (a joblib pickle: loading runs code, so load only your own)")
    evaluation.add_argument("--threshold", type=float, default=0.5,
                            help="probability at or above which a target is predicted (default %(default)s)")
    return parser


def _labelled(args: argparse.Namespace) -> tuple[list[Example], dict[str, Any]]:
    examples, skipped = read_examples(args.completions, args.lang)
    examples, source = label(examples, args.label, settings_from(args).limits(), args.workers)
    statuses = Counter(example.status for example in examples)
    print(f"{args.completions}: {len(examples)} programs ({len({e.key for e in examples})} distinct), "
          f"{skipped} rows without a program left out; labels from {source}: "
          + ", ".join(f"{status} {count}" for status, count in statuses.most_common()))
    return examples, {"completions": str(args.completions), "programs": len(examples), "skipped": skipped,
                      "labels": source, "statuses": dict(statuses)}


def _truth(examples: Sequence[Example], targets: Sequence[str]) -> dict[str, list[bool]]:
    rows = [targets_of(example.status or "") for example in examples]
    return {target: [row[target] for row in rows] for target in targets}


def _score(predictor: Predictor, examples: Sequence[Example], targets: Sequence[str],
           threshold: float) -> dict[str, Any]:
    started = time.perf_counter()
    probabilities = predictor.predict([example.text for example in examples])
    seconds = time.perf_counter() - started
    results = evaluate(_truth(examples, targets), probabilities, threshold)
    print(table(results))
    print(f"predicted {len(examples)} programs in {seconds:.3f} s "
          f"({1e6 * seconds / max(len(examples), 1):.0f} µs per program)")
    return {"scores": results, "predict_seconds": seconds}


def _write(path: str | None, report: dict[str, Any]) -> None:
    if path:
        Path(path).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def train(args: argparse.Namespace) -> int:
    targets = check_targets([t for t in args.targets.split(",") if t])
    examples, report = _labelled(args)
    fit_side, test_side = split(examples, args.test_fraction, args.seed)
    if not fit_side:
        raise ValueError(f"the split left no program to train on (--test_fraction {args.test_fraction})")
    for name, side in (("train", fit_side), ("test", test_side)):
        positives = ", ".join(f"{t} {sum(v)}" for t, v in _truth(side, targets).items())
        print(f"{name}: {len(side)} programs ({len({e.key for e in side})} distinct); positives: {positives}")
    started = time.perf_counter()
    info = {**report, "seed": args.seed, "test_fraction": args.test_fraction}
    predictor = Predictor.fit([e.text for e in fit_side], _truth(fit_side, targets), [e.key for e in fit_side],
                              info, seed=args.seed)
    seconds = time.perf_counter() - started
    path = predictor.save(args.output)
    print(f"trained on {len(fit_side)} programs in {seconds:.2f} s; wrote {path}")
    report.update(train=len(fit_side), test=len(test_side), train_seconds=seconds, model=str(path))
    if test_side:
        report.update(_score(predictor, test_side, targets, 0.5))
    _write(args.json_path, report)
    return 0


def evaluate_command(args: argparse.Namespace) -> int:
    predictor = Predictor.load(args.model)
    targets = check_targets([t for t in args.targets.split(",") if t])
    missing = [t for t in targets if t not in predictor.targets]
    if missing:
        raise ValueError(f"{args.model} predicts {', '.join(predictor.targets)}, not {', '.join(missing)}")
    examples, report = _labelled(args)
    held_out = [e for e in examples if e.key not in predictor.seen]
    print(f"held out: {len(held_out)} programs ({len(examples) - len(held_out)} seen in training left out)")
    if not held_out:
        raise ValueError(f"every program of {args.completions} was in {args.model}'s training set: nothing is held out")
    report.update(held_out=len(held_out), **_score(predictor, held_out, targets, args.threshold))
    _write(args.json_path, report)
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    args = make_parser().parse_args(argv)
    try:
        return train(args) if args.command == "train" else evaluate_command(args)
    except (ValueError, ImportError) as exc:
        print(f"python -m lowres_rl.predict {args.command}: {exc}", file=sys.stderr)
        return 2
