"""Evaluating completions made elsewhere (`--completions FILE`): read, check, group, grade.

    results = evaluate_completions(args)   # {"settings", "figures", "problems"}, no model needed

Each line: 'completion', 'answer' (gold, '#### 18' or '18'), optional 'lang', 'question' (for the
hard-coding check), 'index' (problem id: lines sharing it are samples of one problem) and 'tokens'.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import lowres_rl.training.checks as checks
from lowres_rl.evaluation.records import language_figures, make_grader, problem_record, run_settings, sample_record
from lowres_rl.grading.answers import gold_answer
from lowres_rl.settings import settings_from


def read_completions(path: str | Path, default_languages: list[str]) -> list[dict[str, Any]]:
    """The lines of a completions file, checked: SetupError naming the line and the problem."""
    path = Path(path)
    if not path.is_file():
        raise checks.SetupError(f"--completions file {str(path)!r} does not exist")
    rows = []
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if line.strip():
                rows.append(_row(line, f"{path}:{number}", default_languages))
                rows[-1]["line"] = number
    if not rows:
        raise checks.SetupError(f"--completions file {str(path)!r} holds no completions")
    return rows


def _row(line: str, where: str, default_languages: list[str]) -> dict[str, Any]:
    """One line as a checked row, with its canonical 'gold' and its 'lang'."""
    try:
        row = json.loads(line)
    except ValueError as exc:
        raise checks.SetupError(f"{where}: not JSON ({exc})") from None
    if not isinstance(row, dict) or not isinstance(row.get("completion"), str):
        raise checks.SetupError(f"{where}: expected an object with a string 'completion'")
    if "answer" not in row:
        raise checks.SetupError(f"{where}: no 'answer' (the gold answer, '#### 18' or '18')")
    try:
        row["gold"] = gold_answer(str(row["answer"]))
    except ValueError as exc:
        raise checks.SetupError(f"{where}: {exc}") from None
    if not row.get("lang"):
        if len(default_languages) != 1:
            raise checks.SetupError(f"{where}: no 'lang' field, and --lang {','.join(default_languages)} "
                                    f"does not name exactly one language to default to")
        row["lang"] = default_languages[0]
    return row


def group(rows: list[dict[str, Any]]) -> dict[str, dict[Any, list[dict[str, Any]]]]:
    """language -> problem id -> its lines, in file order; a line without 'index' is its own problem."""
    grouped: dict[str, dict[Any, list[dict[str, Any]]]] = {}
    for row in rows:
        key = row["index"] if row.get("index") is not None else f"line {row['line']}"
        problem = grouped.setdefault(row["lang"], {}).setdefault(key, [])
        if problem and problem[0]["gold"] != row["gold"]:
            raise checks.SetupError(f"line {row['line']}: problem {key!r} ({row['lang']}) has gold "
                                    f"{row['gold']} here but {problem[0]['gold']} on line {problem[0]['line']}")
        problem.append(row)
    return grouped


def evaluate_completions(args: argparse.Namespace) -> dict[str, Any]:
    """Grade a completions file (see --completions) and compute the figures of every language."""
    for flag, bad in (("--samples", args.samples), ("--repair_turns", args.repair_turns),
                      ("--adapter", args.adapter), ("--protocol paper", args.protocol == "paper"),
                      ("--temperature", args.temperature is not None), (f"--backend {args.backend}", args.backend != "hf"),
                      ("--reference_dataset", args.reference_dataset)):
        if bad:
            raise checks.SetupError(f"{flag} needs a model generating; with --completions the samples are "
                                    f"those in the file (group them into problems with an 'index' field; "
                                    f"reference programs go in each line's --reference_column field)")
    settings = settings_from(args)
    rows = read_completions(args.completions, settings.languages)
    grouped = group(rows)
    checks.languages(sorted(grouped))
    grader = make_grader(args, rows[0]["lang"])
    references = [r.get(settings.reference_column) if settings.references_in in (None, r["lang"]) else None
                  for r in rows]
    grades = grader.grade([r["completion"] for r in rows], [r["gold"] for r in rows], [r["lang"] for r in rows],
                          [str(r.get("question") or "") for r in rows], references)
    tokens = token_counts(rows, args.model_name_or_path, args.model_revision)
    for row, grade, count in zip(rows, grades, tokens):
        row["record"] = sample_record(row["completion"], grade, count)
    figures, problems = {}, {}
    for language, by_id in grouped.items():
        problems[language] = [problem_record(key, str(lines[0].get("question") or ""), lines[0]["gold"],
                                             [line["record"] for line in lines]) for key, lines in by_id.items()]
        figures[language] = language_figures(problems[language], args, language)
    record = {**run_settings(args), "mode": "completions",
              "accuracy": "mean share of correct samples per problem (greedy pass@1 with one sample each)"}
    return {"settings": record, "figures": figures, "problems": problems}


def token_counts(rows: list[dict[str, Any]], model: str | None, revision: str | None) -> list[int | None]:
    """A line's 'tokens' field, else its length under the model's tokenizer, else unknown (None)."""
    tokenizer = None
    if model and any(not isinstance(r.get("tokens"), int) for r in rows):
        from lowres_rl.evaluation.generation import load_tokenizer

        tokenizer = load_tokenizer(model, revision)
    counts: list[int | None] = []
    for row in rows:
        if isinstance(row.get("tokens"), int):
            counts.append(row["tokens"])
        elif tokenizer is not None:
            counts.append(len(tokenizer(row["completion"], add_special_tokens=False)["input_ids"]))
        else:
            counts.append(None)
    return counts
