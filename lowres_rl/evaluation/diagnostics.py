"""Diagnostics beyond pass@1, per language: how programs fail, what the interpreter warned about,
and how long completions are next to whether they are right.

    figures = diagnostics(results["problems"])        # {language: {...}}, JSON-able
    print(markdown(figures))
    language_diagnostics(samples, get_language("prolog"))

A *sample* is a graded completion as results.json stores it (lowres_rl.evaluation.main's
sample_record): `status` and `correct`, and where present `error_type`, `error`, `warnings`,
`tokens` and `completion`. Only first attempts count (not repair turns). Per language:

- `statuses`: samples per execution status;
- `error_types`: samples per error type (`existence_error`, `TYPE-ERROR`, `NameError`, "timeout",
  "memory"; see Language.error_type), over samples that failed with an error; a sample without
  one is named from its message by the language's hook, and "unknown" when that says nothing;
- `warning_kinds`: warnings per kind (Language.warning_kind: `singleton variables`), the lint profile;
- `length`: completion length in tokens when every sample has a count, else in characters:
  min / p25 / median / p75 / max (linear interpolation between ranks), mean, and the means of
  correct and of incorrect samples (None when there are none).
"""
from __future__ import annotations

from collections import Counter
from typing import Any, Iterable, Mapping, Sequence

from lowres_rl.languages import Execution, Status, get_language
from lowres_rl.languages.base import Language

Sample = Mapping[str, Any]
FAILED = (Status.SYNTAX_ERROR.value, Status.RUNTIME_ERROR.value, Status.TIMEOUT.value, Status.MEMORY.value)
UNKNOWN = "unknown"


def quantile(ordered: Sequence[float], q: float) -> float:
    """The q-quantile of sorted values, interpolating linearly between ranks (numpy's default)."""
    if not ordered:
        raise ValueError("quantile of no values")
    at = q * (len(ordered) - 1)
    low = int(at)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (at - low)


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def length_figures(lengths: Sequence[float], correct: Sequence[bool], unit: str) -> dict[str, Any]:
    """The length distribution of `lengths` (one per sample, `correct` beside each)."""
    ordered = sorted(lengths)
    if not ordered:
        return {"unit": unit, "n": 0}
    spread = {name: quantile(ordered, q) for name, q in
              (("min", 0.0), ("p25", 0.25), ("median", 0.5), ("p75", 0.75), ("max", 1.0))}
    return {"unit": unit, "n": len(ordered), **spread, "mean": _mean(ordered),
            "mean_correct": _mean([n for n, ok in zip(lengths, correct) if ok]),
            "mean_incorrect": _mean([n for n, ok in zip(lengths, correct) if not ok])}


def sample_lengths(samples: Sequence[Sample]) -> tuple[list[float], str]:
    """Each sample's length and the unit: tokens when every sample has a count, else characters
    of the completion (empty when a sample has neither)."""
    if samples and all(isinstance(s.get("tokens"), int) for s in samples):
        return [float(s["tokens"]) for s in samples], "tokens"
    if all(isinstance(s.get("completion"), str) for s in samples):
        return [float(len(s["completion"])) for s in samples], "characters"
    return [], "characters"


def error_type(sample: Sample, language: Language) -> str:
    """The sample's error type: as graded, else named by the language from status and message."""
    if sample.get("error_type"):
        return str(sample["error_type"])
    try:
        named = language.error_type(Execution(Status(sample["status"]), error=str(sample.get("error") or "")))
    except ValueError:  # a status this version does not know
        named = ""
    return named or UNKNOWN


def language_diagnostics(samples: Sequence[Sample], language: Language | None = None) -> dict[str, Any]:
    """Statuses, error types, warning kinds and the length distribution of one language's samples
    (`language` names untyped errors and warnings; default: the hooks' defaults)."""
    language = language or Language()
    statuses = Counter(str(s["status"]) for s in samples)
    errors = Counter(error_type(s, language) for s in samples if s["status"] in FAILED)
    kinds = Counter(language.warning_kind(str(w)) for s in samples for w in s.get("warnings") or ())
    lengths, unit = sample_lengths(samples)
    figures = {"n_samples": len(samples), "statuses": dict(sorted(statuses.items())),
               "error_types": dict(errors.most_common()), "warning_kinds": dict(kinds.most_common()),
               "length": length_figures(lengths, [bool(s["correct"]) for s in samples][:len(lengths)], unit)}
    similarity = similarity_figures(samples)
    if similarity:
        figures["similarity"] = similarity
    return figures


def similarity_figures(samples: Sequence[Sample]) -> dict[str, Any]:
    """Mean bleu, rouge_l and token_f1 over the samples that had a reference program (and how
    many did); empty when none had one."""
    scored = [s["similarity"] for s in samples if s.get("similarity")]
    if not scored:
        return {}
    names = sorted({name for scores in scored for name in scores})
    means = {name: round(sum(s[name] for s in scored if name in s) / sum(name in s for s in scored), 4)
             for name in names}
    return {"n_with_reference": len(scored), **means}


def diagnostics(problems: Mapping[str, Iterable[Mapping[str, Any]]]) -> dict[str, dict[str, Any]]:
    """{language: language_diagnostics} from results.json's `problems` ({language: [problem]},
    each problem with its `samples`). A language that is not installed here still gets figures,
    its untyped errors named by the default hooks."""
    out = {}
    for name, language_problems in problems.items():
        samples = [s for p in language_problems for s in p["samples"]]
        out[name] = language_diagnostics(samples, _language(name))
    return out


def _language(name: str) -> Language:
    try:
        return get_language(name)
    except Exception:  # noqa: BLE001 - an unknown or broken plugin: the defaults still apply
        return Language()


def _cell(text: str) -> str:
    """Text safe in a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def _counts(counts: Mapping[str, int], total: int, top: int = 5) -> str:
    shown = [f"{_cell(k)} {v} ({100 * v / max(1, total):.0f}%)" for k, v in list(counts.items())[:top]]
    rest = sum(list(counts.values())[top:])
    return ", ".join(shown + ([f"others {rest}"] if rest else [])) or "–"


def _number(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def markdown(figures: Mapping[str, Mapping[str, Any]]) -> str:
    """A Markdown table, one row per language: error types (share of samples), warning kinds,
    completion length (median [p25–p75], min–max) and mean length of correct vs incorrect samples;
    then, where samples had reference programs, their mean bleu, rouge_l and token_f1."""
    lines = ["| language | error types | warning kinds | length median [p25–p75] (min–max) | mean length correct / incorrect |",
             "|---|---|---|---|---|"]
    for language, f in figures.items():
        length = f["length"]
        if length.get("n"):
            spread = (f"{_number(length['median'])} {length['unit']} [{_number(length['p25'])}–"
                      f"{_number(length['p75'])}] ({_number(length['min'])}–{_number(length['max'])})")
            means = f"{_number(length['mean_correct'])} / {_number(length['mean_incorrect'])}"
        else:
            spread = means = "–"
        total_warnings = sum(f["warning_kinds"].values())
        lines.append(f"| {_cell(language)} | {_counts(f['error_types'], f['n_samples'])} | "
                     f"{_counts(f['warning_kinds'], total_warnings)} | {spread} | {means} |")
    similar = {language: f["similarity"] for language, f in figures.items() if f.get("similarity")}
    if similar:
        lines += ["", "| language | samples with a reference | bleu | rouge_l | token_f1 |", "|---|---|---|---|---|"]
        lines += [f"| {_cell(language)} | {s['n_with_reference']} | "
                  + " | ".join(f"{s[name]:.3f}" if name in s else "–" for name in ("bleu", "rouge_l", "token_f1")) + " |"
                  for language, s in similar.items()]
    return "\n".join(lines) + "\n"
