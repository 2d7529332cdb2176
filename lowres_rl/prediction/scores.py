"""How well the predictor does: precision, recall and F1 per target against the executor's labels,
next to the majority-class baseline (always predict the commoner outcome) so the numbers mean
something: a rare target's baseline F1 is 0, a common one's is 2p/(1+p)."""
from __future__ import annotations

from typing import Any, Sequence


def binary_scores(truth: Sequence[bool], predicted: Sequence[bool]) -> dict[str, Any]:
    """Precision, recall, F1 (None where undefined: nothing predicted or nothing to find) and support."""
    tp = sum(t and p for t, p in zip(truth, predicted))
    fp = sum(p and not t for t, p in zip(truth, predicted))
    fn = sum(t and not p for t, p in zip(truth, predicted))
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    if tp + fp + fn == 0:
        f1 = None  # nothing to find and nothing claimed: F1 says nothing
    else:
        f1 = 2 * tp / (2 * tp + fp + fn)
    return {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn, "n": len(truth)}


def majority_f1(truth: Sequence[bool]) -> float | None:
    """F1 of predicting the majority class for every program."""
    positives = sum(truth)
    majority = positives * 2 > len(truth)
    return binary_scores(truth, [majority] * len(truth))["f1"] if truth else None


def evaluate(truth: dict[str, Sequence[bool]], probabilities: Sequence[dict[str, float]],
             threshold: float = 0.5) -> dict[str, dict[str, Any]]:
    """Scores per target, each with its `baseline_f1`, plus `mean` (macro over defined F1s)."""
    results: dict[str, dict[str, Any]] = {}
    for target, values in truth.items():
        predicted = [p[target] >= threshold for p in probabilities]
        results[target] = {**binary_scores(values, predicted), "baseline_f1": majority_f1(values)}
    defined = [r["f1"] for r in results.values() if r["f1"] is not None]
    baselines = [r["baseline_f1"] for r in results.values() if r["f1"] is not None]
    results["mean"] = {"f1": sum(defined) / len(defined) if defined else None,
                       "baseline_f1": sum(b or 0.0 for b in baselines) / len(baselines) if baselines else None}
    return results


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def table(results: dict[str, dict[str, Any]]) -> str:
    """A markdown table of `evaluate`'s results."""
    lines = ["| target | precision | recall | F1 | baseline F1 | positives |", "|---|---|---|---|---|---|"]
    for target, r in results.items():
        if target == "mean":
            lines.append(f"| mean | | | {_cell(r['f1'])} | {_cell(r['baseline_f1'])} | |")
        else:
            lines.append(f"| {target} | {_cell(r['precision'])} | {_cell(r['recall'])} | {_cell(r['f1'])} | "
                         f"{_cell(r['baseline_f1'])} | {r['support']}/{r['n']} |")
    return "\n".join(lines)
