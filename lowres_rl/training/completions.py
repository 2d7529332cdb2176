"""The completions log: every completion a run generates, graded, appended to
`<output_dir>/completions.jsonl` as it is scored (one line each: step, rank, language, prompt index,
completion, status, error type, executed answer, every reward component). Per-language means of
each component go to TRL's metrics (`rewards/<component>/<language>`), and so do the diagnostics
of lowres_rl.evaluation.diagnostics that fit a scalar: the share of each error type
(`errors/<language>/<type>`: `existence_error`, `TYPE-ERROR`, `NameError`, `timeout`, ...) and the
mean completion length (`length/<language>`, in tokens when TRL passes `completion_ids`, else
characters). TRL averages a metric over the batches that logged it, so an error type once seen
is logged as 0 in every later batch of that language without it.

In a multi-process run every rank grades only its own share of the completions, so every rank
keeps its own file: rank 0 `completions.jsonl`, rank N `completions-rankN.jsonl` (one writer per
file, no interleaved lines; `rank` in each row lets them be concatenated). Ranks are global, so
the names stay distinct on a filesystem shared by several nodes."""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any, Sequence

from lowres_rl.grading.rewards import Grade


def log_name(rank: int) -> str:
    """The completions file of global rank `rank`."""
    return "completions.jsonl" if rank == 0 else f"completions-rank{rank}.jsonl"


class CompletionLog:
    def __init__(self, output_dir: str | Path, rank: int = 0) -> None:
        self.rank = rank
        self.path = Path(output_dir) / log_name(rank)
        self._file = open(self.path, "a", encoding="utf-8")
        self._seen: set[str] = set()  # error-type metrics logged so far (0 when absent from a batch)

    def record(self, grades: Sequence[Grade], texts: Sequence[str], columns: dict[str, Any]) -> None:
        """The Grader's on_batch hook: write the batch and log per-language metrics."""
        state = columns.get("trainer_state")
        step = getattr(state, "global_step", None)
        indices = columns.get("index") or [None] * len(grades)
        for grade, text, index in zip(grades, texts, indices):
            row = {"step": step, "rank": self.rank, "language": grade.language, "index": index,
                   "completion": text, "status": grade.status, "error_type": grade.error_type,
                   "answer": grade.answer, "gold": grade.gold,
                   "correct": grade.correct, "hardcoded": grade.hardcoded, **grade.scores,
                   "reward": grade.reward}
            self._file.write(json.dumps(row, ensure_ascii=False) + "\n")
        self._file.flush()
        log_metric = columns.get("log_metric")
        if log_metric is None:
            return
        if len({g.language for g in grades}) > 1:  # with one language TRL's own means say it
            for name, value in per_language_means(grades).items():
                log_metric(name, value)
        ids = columns.get("completion_ids")
        lengths = [len(i) for i in ids] if ids and len(ids) == len(texts) else [len(t) for t in texts]
        figures = diagnostic_metrics(grades, lengths)
        self._seen.update(name for name in figures if name.startswith("errors/"))
        present = {g.language for g in grades}
        for name in self._seen:
            if name.split("/")[1] in present:  # a language absent from this batch logs nothing
                figures.setdefault(name, 0.0)
        for name, value in sorted(figures.items()):
            log_metric(name, value)

    def close(self) -> None:
        self._file.close()


def per_language_means(grades: Sequence[Grade]) -> dict[str, float]:
    """`rewards/<component>/<language>` -> mean score of that language's completions."""
    sums: dict[str, list[float]] = defaultdict(list)
    for grade in grades:
        for component, score in grade.scores.items():
            sums[f"rewards/{component}/{grade.language}"].append(score)
    return {name: sum(values) / len(values) for name, values in sums.items()}


def diagnostic_metrics(grades: Sequence[Grade], lengths: Sequence[int]) -> dict[str, float]:
    """`errors/<language>/<type>` -> share of that language's completions ending in that error;
    `length/<language>` -> their mean length (`lengths`, one per grade)."""
    by_language: dict[str, list[tuple[Grade, int]]] = defaultdict(list)
    for grade, length in zip(grades, lengths):
        by_language[grade.language].append((grade, length))
    metrics: dict[str, float] = {}
    for language, pairs in by_language.items():
        metrics[f"length/{language}"] = sum(n for _, n in pairs) / len(pairs)
        for grade, _ in pairs:
            if grade.error_type:
                name = f"errors/{language}/{grade.error_type}"
                metrics[name] = metrics.get(name, 0.0) + 1 / len(pairs)
    return metrics
