"""The completions log: every completion a run generates, graded, appended to
`<output_dir>/completions.jsonl` as it is scored (one line each: step, rank, language, prompt index,
completion, status, executed answer, every reward component). Per-language means of each
component go to TRL's metrics (`rewards/<component>/<language>`).

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

    def record(self, grades: Sequence[Grade], texts: Sequence[str], columns: dict[str, Any]) -> None:
        """The Grader's on_batch hook: write the batch and log per-language metrics."""
        state = columns.get("trainer_state")
        step = getattr(state, "global_step", None)
        indices = columns.get("index") or [None] * len(grades)
        for grade, text, index in zip(grades, texts, indices):
            row = {"step": step, "rank": self.rank, "language": grade.language, "index": index,
                   "completion": text, "status": grade.status, "answer": grade.answer, "gold": grade.gold,
                   "correct": grade.correct, "hardcoded": grade.hardcoded, **grade.scores,
                   "reward": grade.reward}
            self._file.write(json.dumps(row, ensure_ascii=False) + "\n")
        self._file.flush()
        log_metric = columns.get("log_metric")
        if log_metric is not None and len({g.language for g in grades}) > 1:
            for name, value in per_language_means(grades).items():
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
