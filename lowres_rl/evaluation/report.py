"""Evaluation outputs: results.json, results.md (one table row per language) and the plots.

    write_outputs(results, "outputs/eval")     # results: {"settings", "figures", "problems"}, and
                                               # "diagnostics" (lowres_rl.evaluation.diagnostics) if made
    print(markdown(results))
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import lowres_rl.evaluation.diagnostics as diagnostics
import lowres_rl.evaluation.plots as plots


def pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def markdown(results: dict[str, Any]) -> str:
    """A Markdown table, one row per language, with every headline figure."""
    figures = results["figures"]
    labels = plots.headline_metrics(figures)
    ks = sorted({int(k) for f in figures.values() for k in f.get("pass_at_k", {})})
    columns = ["language", "problems", "samples", "accuracy", "hard-coded"] + [f"pass@{k}" for k in ks]
    columns += [labels[k] for k in ("any_of_n", "all_of_n") if k in labels]
    if "best_of" in labels:
        columns += [f"{labels['best_of']} (any ok)", f"{labels['best_of']} (first ok)"]
    turns = max((f["repair"]["turns"] for f in figures.values() if "repair" in f), default=0)
    columns += [f"repair turn {t}" for t in range(turns + 1)] if turns else []
    columns += ["format", "statuses", "mean tokens", "mean exec s"]
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    for language, f in figures.items():
        low, high = f["samples_min"], f["samples_max"]
        samples = str(high) if low == high else f"{low}–{high}"
        cells = [language, str(f["n_problems"]), samples, pct(f["accuracy"]), pct(f["hardcoded_rate"])]
        cells += [pct(f.get("pass_at_k", {}).get(str(k))) for k in ks]
        cells += [pct(f.get(k)) for k in ("any_of_n", "all_of_n") if k in labels]
        if "best_of" in labels:
            best = f.get("best_of", {})
            cells += [pct(best.get("solved")), pct(best.get("first_ok"))]
        if turns:
            by_turn = f.get("repair", {}).get("accuracy_by_turn", [])
            cells += [pct(by_turn[t]) if t < len(by_turn) else "–" for t in range(turns + 1)]
        cells += [pct(f["format_rate"]), ", ".join(f"{s} {c}" for s, c in f["statuses"].items()),
                  "–" if f["mean_tokens"] is None else f"{f['mean_tokens']:.1f}",
                  "–" if f["mean_seconds"] is None else f"{f['mean_seconds']:.3f}"]
        lines.append("| " + " | ".join(cells) + " |")
    settings = results["settings"]
    if settings.get("mode") == "completions":
        source = f"completions {settings.get('completions')}"
    else:
        adapter = f" + adapter {settings['adapter']}" if settings.get("adapter") else ""
        source = (f"model {settings.get('model')}{adapter}, dataset {settings.get('dataset')} "
                  f"({settings.get('dataset_split', settings.get('split'))}), protocol {settings.get('protocol')}")
    text = f"Evaluation: {source}. Accuracy: {settings.get('accuracy')}.\n\n" + "\n".join(lines) + "\n"
    if results.get("diagnostics"):
        text += "\nDiagnostics (error types as a share of samples, warnings by kind):\n\n"
        text += diagnostics.markdown(results["diagnostics"])
    return text


def write_outputs(results: dict[str, Any], output_dir: str | Path) -> Path:
    """results.json, results.md, accuracy.png and statuses.png in `output_dir`, and errors.png
    (error types per language) when the results have diagnostics."""
    output = Path(output_dir)
    output.mkdir(parents=True, exist_ok=True)
    text = json.dumps(results, indent=2, ensure_ascii=False)
    (output / "results.json").write_text(text + "\n", encoding="utf-8")
    (output / "results.md").write_text(markdown(results), encoding="utf-8")
    plots.accuracy_plot(results["figures"], output / "accuracy.png")
    plots.status_plot(results["figures"], output / "statuses.png")
    if results.get("diagnostics"):
        plots.error_type_plot(results["diagnostics"], output / "errors.png")
    return output
