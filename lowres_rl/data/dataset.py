"""Datasets: GSM8K (or any question/answer set) from the hub or local files, turned into prompts.

    rows = load_rows("openai/gsm8k", config="main", split="train")       # the hub (default)
    rows = load_rows("../shared/data/gsm8k/train.jsonl")                  # a local jsonl/parquet file
    dataset = build_dataset(rows, ["prolog", "lisp"], variant="paper", shots=0)

`build_dataset` gives TRL's conversational format: `prompt` (chat messages), plus the columns the
reward functions read: `answer` (canonical gold), `question`, `language` and `index` (the row),
and `reference` (a reference program, for the similarity components) where the rows have one.
With several languages every question appears once per language.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from datasets import Dataset, concatenate_datasets, load_dataset

from lowres_rl.grading.answers import gold_answer
from lowres_rl.data.prompt import build_messages

LOCAL_FORMATS = {".jsonl": "json", ".json": "json", ".parquet": "parquet", ".csv": "csv"}


class DatasetError(ValueError):
    """The dataset cannot be used; the message names the source, column or row and what to do."""


def load_rows(source: str, config: str | None = None, split: str = "train") -> Dataset:
    """Rows from a local file, a local directory (`<split>*.jsonl|parquet` inside), or a hub id."""
    path = Path(source).expanduser()
    if path.exists():
        return _load_local(path, split)
    if source.startswith((".", "/", "~")) or path.suffix in LOCAL_FORMATS:
        raise DatasetError(f"dataset file {source!r} does not exist")
    try:
        return load_dataset(source, config, split=split)
    except Exception as exc:  # noqa: BLE001 - connection errors come in many types
        raise DatasetError(
            f"cannot load dataset {source!r} (config {config!r}, split {split!r}) from the Hugging Face "
            f"hub: {type(exc).__name__}: {exc}. Without network access pass a local file, e.g. "
            f"--dataset path/to/gsm8k/{split}.jsonl") from exc


def _load_local(path: Path, split: str) -> Dataset:
    files = [path] if path.is_file() else [
        f for f in sorted(path.iterdir()) if f.name.startswith(split) and f.suffix in LOCAL_FORMATS]
    if not files:
        raise DatasetError(f"no {split}*.jsonl/.parquet/.csv file in dataset directory {str(path)!r}")
    kinds = {LOCAL_FORMATS.get(f.suffix) for f in files}
    if None in kinds or len(kinds) > 1:
        raise DatasetError(f"dataset files must all be one of {sorted(LOCAL_FORMATS)}: got {[f.name for f in files]}")
    return load_dataset(kinds.pop(), data_files=[str(f) for f in files], split="train")


def validate(rows: Dataset, question_column: str = "question", answer_column: str = "answer") -> None:
    """Every row has a non-empty question and a readable numeric answer, or a DatasetError
    names the column and the first bad row."""
    for column in (question_column, answer_column):
        if column not in rows.column_names:
            raise DatasetError(f"dataset has no {column!r} column (columns: {rows.column_names}); "
                               f"name the right one with --{'question' if column == question_column else 'answer'}_column")
    for i, row in enumerate(rows):
        if not isinstance(row[question_column], str) or not row[question_column].strip():
            raise DatasetError(f"row {i}: column {question_column!r} is empty or not text")
        try:
            gold_answer(str(row[answer_column]))
        except ValueError as exc:
            raise DatasetError(f"row {i}: column {answer_column!r}: {exc}") from None


def build_dataset(rows: Dataset, languages: Sequence[str], variant: str = "paper", shots: int = 0,
                  question_column: str = "question", answer_column: str = "answer",
                  system: bool = True, style: str = "full", reference_column: str = "reference",
                  reference_language: str | None = None) -> Dataset:
    """Prompts for every row in every language (see module docstring). Rows with a
    `reference_column` (a reference program each, or empty) also get a `reference` column, in
    `reference_language` only when one is named (a Prolog program is no reference for Lisp)."""
    validate(rows, question_column, answer_column)
    questions = [str(q) for q in rows[question_column]]
    golds = [gold_answer(str(a)) for a in rows[answer_column]]
    programs = ([str(r) if r else None for r in rows[reference_column]]
                if reference_column in rows.column_names else None)
    parts = []
    for language in languages:
        columns = {
            "prompt": [build_messages(q, language, variant=variant, shots=shots, system=system,
                                     style=style) for q in questions],
            "answer": golds,
            "question": questions,
            "language": [language] * len(questions),
            "index": list(range(len(questions))),
        }
        if programs is not None:
            wanted = reference_language is None or language == reference_language
            columns["reference"] = programs if wanted else [None] * len(programs)
        parts.append(Dataset.from_dict(columns))
    return concatenate_datasets(parts) if len(parts) > 1 else parts[0]
