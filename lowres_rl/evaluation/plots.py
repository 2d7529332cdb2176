"""PNG plots of evaluation results (matplotlib, Agg backend: no display needed).

    accuracy_plot(figures, "outputs/eval/accuracy.png")      # accuracy per language (bars)
    status_plot(figures, "outputs/eval/statuses.png")        # execution statuses, stacked
    compare_plot(figures_a, figures_b, ("base", "grpo"), "outputs/eval/compare.png")
    error_type_plot(diagnostics, "outputs/eval/errors.png")  # error types per language (bars)

`figures` maps a language to its figures (lowres_rl.evaluation.metrics.language_figures), as in results.json.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from lowres_rl.languages import Status

Figures = Mapping[str, Mapping[str, Any]]
SMOOTHING = 10  # GRPO steps averaged in the demo's reward curve

STATUS_COLOURS = {
    Status.OK.value: "#4caf50", Status.NO_PROGRAM.value: "#9e9e9e", Status.SYNTAX_ERROR.value: "#ff9800",
    Status.RUNTIME_ERROR.value: "#f44336", Status.TIMEOUT.value: "#9c27b0", Status.MEMORY.value: "#795548",
    Status.NO_ANSWER.value: "#2196f3", Status.CRASHED.value: "#000000",
}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def samples_label(figure: Mapping[str, Any]) -> str:
    """The n of any-of-n: the number of samples per problem, or "n" when problems differ."""
    low, high = figure.get("samples_min"), figure.get("samples_max")
    return str(high) if low == high else "n"


def headline_metrics(figures: Figures) -> dict[str, str]:
    """The rate metrics worth a bar, as {key: label}, for the metrics some language has."""
    metrics = {"accuracy": "accuracy"}
    sizes = {samples_label(f) for f in figures.values() if "any_of_n" in f}
    n = sizes.pop() if len(sizes) == 1 else "n"
    if any("any_of_n" in f for f in figures.values()):
        metrics.update(any_of_n=f"any-of-{n}", all_of_n=f"all-of-{n}")
    if any("best_of" in f for f in figures.values()):
        tries = {f["best_of"]["n"] for f in figures.values() if "best_of" in f}
        metrics["best_of"] = f"best-of-{tries.pop() if len(tries) == 1 else 'N'}"
    if any("repair" in f for f in figures.values()):
        metrics["repair"] = "after repair"
    return metrics


def metric_value(figure: Mapping[str, Any], key: str) -> float | None:
    """A headline metric's value (see headline_metrics), None when the language lacks it."""
    if key == "best_of":
        return figure["best_of"]["solved"] if "best_of" in figure else None
    if key == "repair":
        return figure["repair"]["accuracy_by_turn"][-1] if "repair" in figure else None
    value = figure.get(key)
    return float(value) if isinstance(value, (int, float)) else None


def _bars(ax: Any, groups: Sequence[str], series: Mapping[str, Sequence[float | None]],
          annotate: bool = True) -> None:
    """Grouped bars: one group per language, one bar per series; values are rates in [0, 1]."""
    width = 0.8 / max(1, len(series))
    for s, (label, values) in enumerate(series.items()):
        xs = [g + (s - (len(series) - 1) / 2) * width for g in range(len(groups))]
        heights = [100 * v if v is not None else 0 for v in values]
        bars = ax.bar(xs, heights, width, label=label)
        if annotate:
            for bar, value in zip(bars, values):
                text = "n/a" if value is None else f"{100 * value:.1f}"
                ax.annotate(text, (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center",
                            va="bottom", fontsize=8, xytext=(0, 2), textcoords="offset points")
    ax.set_xticks(range(len(groups)), groups)
    ax.set_ylabel("% of problems")
    ax.set_ylim(0, 110)
    if len(series) > 1:
        ax.legend(fontsize=8)


def accuracy_plot(figures: Figures, path: str | Path, title: str = "Accuracy per language") -> Path:
    """Bars of accuracy (and any-of-n, best-of-N, repair accuracy where measured) per language."""
    plt = _pyplot()
    languages = list(figures)
    metrics = headline_metrics(figures)
    fig, ax = plt.subplots(figsize=(max(4.0, 1.6 * len(languages) * max(1, len(metrics)) / 2 + 2), 4))
    _bars(ax, languages, {label: [metric_value(figures[lang], key) for lang in languages]
                          for key, label in metrics.items()})
    ax.set_title(title)
    return _save(fig, plt, path)


def status_plot(figures: Figures, path: str | Path, title: str = "Execution status per language") -> Path:
    """Stacked bars: the share of samples ending in each execution status, per language."""
    plt = _pyplot()
    languages = list(figures)
    seen = {s for f in figures.values() for s in f["statuses"]}
    statuses = [s for s in STATUS_COLOURS if s in seen] + sorted(seen - set(STATUS_COLOURS))
    fig, ax = plt.subplots(figsize=(max(4.0, 1.4 * len(languages) + 3), 4))
    bottoms = [0.0] * len(languages)
    for status in statuses:
        shares = [100 * figures[lang]["statuses"].get(status, 0) / max(1, figures[lang]["n_samples"])
                  for lang in languages]
        ax.bar(languages, shares, 0.6, bottom=bottoms, label=status, color=STATUS_COLOURS.get(status))
        bottoms = [b + s for b, s in zip(bottoms, shares)]
    ax.set_ylabel("% of samples")
    ax.set_ylim(0, 100)
    ax.set_title(title)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return _save(fig, plt, path)


def error_type_plot(diagnostics: Figures, path: str | Path, top: int = 8,
                    title: str = "Error types per language") -> Path:
    """Grouped bars: for the `top` most common error types over all languages, the share of each
    language's samples ending in it (`diagnostics` as lowres_rl.evaluation.diagnostics makes)."""
    plt = _pyplot()
    languages = list(diagnostics)
    totals: dict[str, int] = {}
    for figure in diagnostics.values():
        for kind, count in figure["error_types"].items():
            totals[kind] = totals.get(kind, 0) + count
    kinds = sorted(totals, key=lambda k: -totals[k])[:top]
    fig, ax = plt.subplots(figsize=(max(5.0, 1.1 * len(kinds) * max(1, len(languages)) / 2 + 3), 4.2))
    width = 0.8 / max(1, len(languages))
    for i, language in enumerate(languages):
        figure = diagnostics[language]
        xs = [k + (i - (len(languages) - 1) / 2) * width for k in range(len(kinds))]
        ax.bar(xs, [100 * figure["error_types"].get(kind, 0) / max(1, figure["n_samples"]) for kind in kinds],
               width, label=language)
    ax.set_xticks(range(len(kinds)), kinds, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("% of samples")
    ax.set_title(title if kinds else f"{title}: none")
    if languages:
        ax.legend(fontsize=8)
    return _save(fig, plt, path)


def compare_plot(a: Figures, b: Figures, labels: tuple[str, str], path: str | Path) -> Path:
    """Two runs side by side: one panel per headline metric, A and B bars per language, with
    B - A in points above each pair."""
    plt = _pyplot()
    languages = list(dict.fromkeys([*a, *b]))
    metrics = {k: v for k, v in headline_metrics({**a, **{f"b:{k}": f for k, f in b.items()}}).items()
               if any(metric_value(f, k) is not None for f in a.values())
               and any(metric_value(f, k) is not None for f in b.values())} or {"accuracy": "accuracy"}
    fig, axes = plt.subplots(1, len(metrics), figsize=(max(4.5, 1.8 * len(languages) + 2) * len(metrics), 4.2),
                             squeeze=False)
    for ax, (key, label) in zip(axes[0], metrics.items()):
        va = [metric_value(a[lang], key) if lang in a else None for lang in languages]
        vb = [metric_value(b[lang], key) if lang in b else None for lang in languages]
        _bars(ax, languages, {labels[0]: va, labels[1]: vb}, annotate=False)
        for g, (x, y) in enumerate(zip(va, vb)):
            if x is not None and y is not None:
                ax.annotate(f"{100 * (y - x):+.1f} pt", (g, 100 * max(x, y)), ha="center", va="bottom",
                            fontsize=9, xytext=(0, 3), textcoords="offset points")
        ax.set_title(label)
    fig.suptitle(f"{labels[1]} vs {labels[0]}")
    return _save(fig, plt, path)


def demo_plots(runs: Sequence[Mapping[str, Any]], output: str | Path) -> tuple[Path, Path]:
    """The demo's `rewards.png` (mean reward per GRPO step, one colour per seed: each step faint,
    the mean of the last `SMOOTHING` steps solid) and `accuracy.png` (held-out accuracy before and
    after GRPO, per seed and language)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for run in runs:
        steps, rewards = zip(*run["rewards"]) if run["rewards"] else ((), ())
        [line] = ax.plot(steps, rewards, alpha=0.25, linewidth=0.8)
        smooth = [sum(rewards[max(0, i - SMOOTHING + 1):i + 1]) / len(rewards[max(0, i - SMOOTHING + 1):i + 1])
                  for i in range(len(rewards))]
        ax.plot(steps, smooth, color=line.get_color(), label=f"seed {run['seed']}")
    ax.set_xlabel("GRPO step")
    ax.set_ylabel("mean reward")
    ax.set_title("Reward during GRPO")
    ax.legend(fontsize=8)
    rewards_png = _save(fig, plt, Path(output) / "rewards.png")
    groups = [f"{lang}\nseed {run['seed']}" for run in runs for lang in run["before"]]
    before = [v for run in runs for v in run["before"].values()]
    after = [run["after"][lang] for run in runs for lang in run["before"]]
    fig, ax = plt.subplots(figsize=(max(4.0, 1.5 * len(groups) + 2), 4))
    _bars(ax, groups, {"before GRPO": before, "after GRPO": after})
    ax.set_title("Held-out accuracy before and after GRPO")
    return rewards_png, _save(fig, plt, Path(output) / "accuracy.png")


def _save(fig: Any, plt: Any, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
