"""Two evaluation runs side by side: `python -m lowres_rl.evaluate compare RUN_A RUN_B`.

    python -m lowres_rl.evaluate compare outputs/eval-base outputs/eval-grpo --labels base,grpo

Prints every figure of every language for both runs with the difference (B - A) in percentage
points, and writes compare.png (into --output_dir, or RUN_B's directory). When the results have
diagnostics (lowres_rl.evaluation.diagnostics), their figures follow: the share of samples per
error type (in points), warnings per sample by kind, and completion length (median, mean of
correct and of incorrect samples; a difference only when both runs count in the same unit).
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any, Sequence

import lowres_rl.training.checks as checks
import lowres_rl.evaluation.plots as plots
from lowres_rl.evaluation.report import pct
from lowres_rl.settings import spellings

log = logging.getLogger("lowres_rl.evaluation.compare")


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lowres_rl.evaluate compare",
                                     description="Two evaluation runs side by side, per language, with "
                                                 "the difference (B - A) in percentage points.")
    parser.add_argument("run_a", help="the first run: its output directory or its results.json")
    parser.add_argument("run_b", help="the second run: its output directory or its results.json")
    parser.add_argument("--labels", help="names for the two runs, comma-separated (default: directory names)")
    parser.add_argument(*spellings("output_dir"), dest="output_dir", help="where compare.png goes (default: RUN_B's directory)")
    return parser


def load_results(run: str | Path) -> dict[str, Any]:
    path = Path(run)
    path = path / "results.json" if path.is_dir() else path
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise checks.SetupError(f"cannot read {str(path)!r}: {exc.strerror} (give a run's output directory "
                                f"or its results.json)") from None
    except ValueError as exc:
        raise checks.SetupError(f"{str(path)!r} is not JSON: {exc}") from None
    if not isinstance(results, dict) or not isinstance(results.get("figures"), dict):
        raise checks.SetupError(f"{str(path)!r} has no 'figures': not a results.json of lowres_rl.evaluation.main")
    return results


def flat_figures(figure: dict[str, Any]) -> dict[str, float]:
    """A language's rate figures under flat names: accuracy, pass@k, any-of-n, best-of-N, ..."""
    flat = {"accuracy": figure["accuracy"]}
    flat.update({f"pass@{k}": v for k, v in figure.get("pass_at_k", {}).items()})
    n = plots.samples_label(figure)
    if "any_of_n" in figure:
        flat[f"any-of-{n}"] = figure["any_of_n"]
        flat[f"all-of-{n}"] = figure["all_of_n"]
    if "best_of" in figure:
        flat[f"best-of-{figure['best_of']['n']} (any ok)"] = figure["best_of"]["solved"]
        flat[f"best-of-{figure['best_of']['n']} (first ok)"] = figure["best_of"]["first_ok"]
    if "repair" in figure:
        flat.update({f"repair turn {t}": v for t, v in enumerate(figure["repair"]["accuracy_by_turn"])})
    flat["format"] = figure["format_rate"]
    flat["hard-coded"] = figure["hardcoded_rate"]
    return flat


def compare_runs(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per language and figure: A's and B's values (None where a run lacks it) and
    B - A in percentage points (None unless both have it)."""
    rows = []
    for language in dict.fromkeys([*a["figures"], *b["figures"]]):
        fa = flat_figures(a["figures"][language]) if language in a["figures"] else {}
        fb = flat_figures(b["figures"][language]) if language in b["figures"] else {}
        for name in dict.fromkeys([*fa, *fb]):
            va, vb = fa.get(name), fb.get(name)
            diff = round(100 * (vb - va), 6) if va is not None and vb is not None else None
            rows.append({"language": language, "figure": name, "a": va, "b": vb, "diff_points": diff})
    return rows


def compare_diagnostics(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows like compare_runs' for the runs' diagnostics (none when neither has them); each row
    has a `unit`: "share" (of samples, B - A in points), "per sample" or a length unit (B - A in
    `diff`, None when the runs' units differ)."""
    da, db = a.get("diagnostics") or {}, b.get("diagnostics") or {}
    rows = []
    for language in dict.fromkeys([*da, *db]):
        fa, fb = _diagnostic_figures(da.get(language)), _diagnostic_figures(db.get(language))
        for name in dict.fromkeys([*fa, *fb]):
            (va, ua), (vb, ub) = fa.get(name, (None, None)), fb.get(name, (None, None))
            unit = ua or ub
            both = va is not None and vb is not None and ua == ub
            row = {"language": language, "figure": name, "a": va, "b": vb, "unit": unit,
                   "diff_points": round(100 * (vb - va), 6) if both and unit == "share" else None,
                   "diff": vb - va if both and unit != "share" else None}
            rows.append(row)
    return rows


def _diagnostic_figures(figure: dict[str, Any] | None) -> dict[str, tuple[float | None, str]]:
    """A language's diagnostics under flat names, each as (value, unit)."""
    if not figure:
        return {}
    n = max(1, figure["n_samples"])
    flat = {f"error {kind}": (count / n, "share") for kind, count in figure["error_types"].items()}
    flat.update({f"warning {kind}": (count / n, "per sample") for kind, count in figure["warning_kinds"].items()})
    length = figure["length"]
    if length.get("n"):
        unit = length["unit"]
        flat.update({"length median": (length["median"], unit), "length mean correct": (length["mean_correct"], unit),
                     "length mean incorrect": (length["mean_incorrect"], unit)})
    return flat


def _value(value: float | None, unit: str | None) -> str:
    if unit in (None, "share"):
        return pct(value)
    return "–" if value is None else f"{value:.2f}" if unit == "per sample" else f"{value:.1f} {unit}"


def compare_table(rows: list[dict[str, Any]], labels: tuple[str, str]) -> str:
    """Markdown: one line per row of compare_runs or compare_diagnostics."""
    lines = [f"| language | figure | {labels[0]} | {labels[1]} | difference |", "|---|---|---|---|---|"]
    for row in rows:
        unit = row.get("unit")
        if row["diff_points"] is not None:
            diff = f"{row['diff_points']:+.1f} pt"
        elif row.get("diff") is not None:
            diff = f"{row['diff']:+.2f}" if unit == "per sample" else f"{row['diff']:+.1f}"
        else:
            diff = "–"
        figure = row["figure"].replace("|", "\\|")
        lines.append(f"| {row['language']} | {figure} | {_value(row['a'], unit)} | {_value(row['b'], unit)} | {diff} |")
    return "\n".join(lines) + "\n"


def compare(run_a: str | Path, run_b: str | Path, output_dir: str | Path | None = None,
            labels: tuple[str, str] | None = None) -> tuple[list[dict[str, Any]], Path, tuple[str, str]]:
    """Compare two runs: the rows of compare_runs then compare_diagnostics, the path of
    compare.png and the run labels."""
    a, b = load_results(run_a), load_results(run_b)
    labels = labels or (_run_name(run_a), _run_name(run_b))
    if labels[0] == labels[1]:
        labels = (f"A: {labels[0]}", f"B: {labels[1]}")
    directory = Path(output_dir) if output_dir else (Path(run_b) if Path(run_b).is_dir() else Path(run_b).parent)
    path = plots.compare_plot(a["figures"], b["figures"], labels, directory / "compare.png")
    return compare_runs(a, b) + compare_diagnostics(a, b), path, labels


def _run_name(run: str | Path) -> str:
    path = Path(run).resolve()
    return (path if path.is_dir() else path.parent).name


def main(argv: Sequence[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    labels = None
    if args.labels:
        parts = [p.strip() for p in args.labels.split(",")]
        if len(parts) != 2 or not all(parts):
            print(f"error: --labels needs two names separated by a comma, got {args.labels!r}", file=sys.stderr)
            return 2
        labels = (parts[0], parts[1])
    try:
        rows, path, labels = compare(args.run_a, args.run_b, args.output_dir, labels)
    except checks.SetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(compare_table(rows, labels))
    log.info("plot: %s", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
