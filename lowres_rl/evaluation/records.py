"""What an evaluation records, as results.json stores it: one graded sample, one problem, a
language's figures, the run's settings; and the grader the samples are graded with.

    record = sample_record(text, grade, tokens)
    problem = problem_record(index, question, gold, [record, ...])
    figures = language_figures(problems, args, "prolog")
"""
from __future__ import annotations

import argparse
import logging
import time
from typing import Any

import lowres_rl.evaluation.metrics as metrics
import lowres_rl.training.checks as checks
from lowres_rl.grading.presets import PRESETS, SIMILARITY, with_similarity
from lowres_rl.grading.rewards import Grader
from lowres_rl.settings import settings_from

log = logging.getLogger("lowres_rl.evaluation.records")


def make_grader(args: argparse.Namespace, language: str) -> Grader:
    """The grader evaluate uses: the default preset (accuracy does not depend on the weights) with
    the similarity metrics for rows that have a reference, the flags' variant, limits and workers;
    SetupError naming a bad flag."""
    try:
        settings = settings_from(args)
    except ValueError as exc:
        raise checks.SetupError(str(exc)) from None
    return Grader(with_similarity(PRESETS["default"]), variant=settings.variant, limits=settings.limits(), workers=settings.workers,
                  language=language)


def sample_record(text: str, grade: Any, tokens: int | None) -> dict[str, Any]:
    """One graded completion as stored in results.json (the input of lowres_rl.evaluation.metrics
    and .diagnostics); `similarity` (bleu, rouge_l, token_f1) only when the row had a reference."""
    record = {"completion": text, "status": grade.status, "answer": grade.answer, "correct": grade.correct,
              "hardcoded": grade.hardcoded, "strict_format": grade.strict_format, "error": grade.error,
              "error_type": grade.error_type, "warnings": grade.warnings, "seconds": round(grade.seconds, 4),
              "tokens": tokens}
    similarity = {c.name: grade.scores[c.name] for c in SIMILARITY if c.name in grade.scores}
    if similarity:
        record["similarity"] = similarity
    return record


def problem_record(index: Any, question: str, gold: str, samples: list[dict[str, Any]]) -> dict[str, Any]:
    """One problem: its samples (each with an empty `repairs` list to start) and how many are correct."""
    for sample in samples:
        sample.setdefault("repairs", [])
    correct = sum(bool(s["correct"]) for s in samples)
    return {"index": index, "question": question, "gold": gold, "n_samples": len(samples),
            "n_correct": correct, "solved": correct > 0, "samples": samples}


def language_figures(problems: list[dict[str, Any]], args: argparse.Namespace, language: str) -> dict[str, Any]:
    """A language's figures, with the pass@k the flags ask for (those the samples allow)."""
    sizes = [p["n_samples"] for p in problems]
    ks = args.pass_k or ([1, max(sizes)] if max(sizes) > 1 else [1])
    skipped = [k for k in ks if k > min(sizes)]
    if skipped:
        log.warning("%s: no pass@k for k=%s: some problems have only %d sample(s)", language,
                    ",".join(map(str, skipped)), min(sizes))
    return metrics.language_figures(problems, ks, args.tries or 0, args.repair_turns)


def run_settings(args: argparse.Namespace) -> dict[str, Any]:
    """Every flag of the run, and when it ran."""
    return {**vars(args), "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
