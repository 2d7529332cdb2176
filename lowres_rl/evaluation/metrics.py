"""Evaluation figures from graded samples: accuracy, pass@k, any-of-n, best-of-N, repair turns.

    pass_at_k(n=4, c=1, k=2)                      # 0.5, Chen et al. (2021)'s unbiased estimator
    figures = language_figures(problems, ks=[1, 4], tries=4, repair_turns=1)

A *problem* is a dict with a `samples` list; a *sample* is a dict with at least `correct`,
`status`, `strict_format`, `hardcoded`, `seconds`, `tokens` (None when unknown) and `repairs` (the
follow-up attempts after failed executions, each with `correct` and `status`). These are exactly
the per-problem records evaluate.py writes to results.json, so figures can be recomputed from it.

Every rate is first taken within a problem, then averaged over problems, so a problem with more
samples does not weigh more. Counts (statuses) are over samples.
"""
from __future__ import annotations

from math import comb
from typing import Any, Sequence

Problem = dict[str, Any]


def pass_at_k(n: int, c: int, k: int) -> float:
    """Probability that at least one of k samples drawn without replacement from n samples, c of
    them correct, is correct: 1 - C(n-c, k) / C(n, k). Exact integer arithmetic."""
    if not 0 <= c <= n:
        raise ValueError(f"need 0 <= c <= n, got n={n}, c={c}")
    if not 1 <= k <= n:
        raise ValueError(f"pass@{k} needs between 1 and n={n} samples per problem, got k={k}")
    if n - c < k:
        return 1.0
    return 1.0 - comb(n - c, k) / comb(n, k)


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def correct_count(problem: Problem) -> int:
    return sum(bool(s["correct"]) for s in problem["samples"])


def accuracy(problems: Sequence[Problem]) -> float:
    """Mean over problems of the fraction of samples correct: greedy accuracy with one greedy
    sample per problem, the unbiased pass@1 with several sampled ones."""
    return _mean([correct_count(p) / len(p["samples"]) for p in problems]) or 0.0


def mean_pass_at_k(problems: Sequence[Problem], k: int) -> float:
    return _mean([pass_at_k(len(p["samples"]), correct_count(p), k) for p in problems]) or 0.0


def any_of_n(problems: Sequence[Problem]) -> float:
    """Fraction of problems with at least one correct sample (the paper's "pass@1" with n=4)."""
    return _mean([float(correct_count(p) > 0) for p in problems]) or 0.0


def all_of_n(problems: Sequence[Problem]) -> float:
    """Fraction of problems whose samples are all correct (the paper's "strict" with n=4)."""
    return _mean([float(correct_count(p) == len(p["samples"])) for p in problems]) or 0.0


def best_of(problems: Sequence[Problem], tries: int) -> dict[str, Any]:
    """Best-of-N over each problem's first `tries` samples. `solved`: some sample that executed
    successfully (status ok) agrees with gold. `first_ok`: the first sample that executed
    successfully agrees with gold — what a user gets by retrying until a program runs, with no
    gold answer to pick by. A problem with no ok sample counts as unsolved in both."""
    solved, first_ok = [], []
    for problem in problems:
        samples = problem["samples"][:tries]
        ok = [s for s in samples if s["status"] == "ok"]
        solved.append(float(any(s["correct"] for s in ok)))
        first_ok.append(float(bool(ok) and bool(ok[0]["correct"])))
    return {"n": tries, "solved": _mean(solved) or 0.0, "first_ok": _mean(first_ok) or 0.0}


def attempt_at(sample: dict[str, Any], turn: int) -> dict[str, Any]:
    """The sample's standing attempt after `turn` repair turns (turn 0: the sample itself)."""
    attempts = [sample, *sample.get("repairs", [])]
    return attempts[min(turn, len(attempts) - 1)]


def repair_figures(problems: Sequence[Problem], turns: int) -> dict[str, Any]:
    """Accuracy after each repair turn 0..turns, the attempts made at each turn (turn 0: every
    sample) and the statuses after the last turn."""
    by_turn, attempts = [], []
    for turn in range(turns + 1):
        by_turn.append(_mean([_mean([float(bool(attempt_at(s, turn)["correct"])) for s in p["samples"]])
                              for p in problems]) or 0.0)
        attempts.append(sum(1 for p in problems for s in p["samples"]
                            if len(s.get("repairs", [])) >= turn))
    return {"turns": turns, "accuracy_by_turn": by_turn, "attempts_by_turn": attempts,
            "statuses_after": status_counts([attempt_at(s, turns) for p in problems for s in p["samples"]])}


def status_counts(samples: Sequence[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for sample in samples:
        counts[sample["status"]] = counts.get(sample["status"], 0) + 1
    return dict(sorted(counts.items()))


def language_figures(problems: Sequence[Problem], ks: Sequence[int] = (), tries: int = 0,
                     repair_turns: int = 0) -> dict[str, Any]:
    """Every figure for one language (see the module docstring for the input). pass@k is given
    for each k in `ks` that every problem has enough samples for; any/all-of-n when some problem
    has more than one sample; best-of-N when `tries`; per-turn accuracy when `repair_turns`."""
    if not problems:
        raise ValueError("no problems to compute figures for")
    samples = [s for p in problems for s in p["samples"]]
    sizes = [len(p["samples"]) for p in problems]
    if min(sizes) < 1:
        raise ValueError("every problem needs at least one sample")
    ran = [s["seconds"] for s in samples if s["status"] != "no_program"]
    tokens = [s["tokens"] for s in samples if s.get("tokens") is not None]
    figures: dict[str, Any] = {
        "n_problems": len(problems),
        "n_samples": len(samples),
        "samples_min": min(sizes),
        "samples_max": max(sizes),
        "accuracy": accuracy(problems),
        "hardcoded_rate": _mean([float(bool(s["hardcoded"])) for s in samples]),
        "format_rate": _mean([float(bool(s["strict_format"])) for s in samples]),
        "statuses": status_counts(samples),
        "mean_tokens": _mean(tokens) if len(tokens) == len(samples) else None,
        "mean_seconds": _mean(ran),
    }
    usable = sorted({k for k in ks if 1 <= k <= min(sizes)})
    if usable and max(sizes) > 1:
        figures["pass_at_k"] = {str(k): mean_pass_at_k(problems, k) for k in usable}
    if max(sizes) > 1:
        figures["any_of_n"] = any_of_n(problems)
        figures["all_of_n"] = all_of_n(problems)
    if tries:
        figures["best_of"] = best_of(problems, tries)
    if repair_turns:
        figures["repair"] = repair_figures(problems, repair_turns)
    return figures
