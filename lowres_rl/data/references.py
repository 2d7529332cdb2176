"""Reference programs for the similarity reward components, joined onto a question/answer dataset.

    programs = load_references("Thomas-X-Yang/gsm8k-prolog", split="train")   # the hub
    programs = load_references("path/to/gsm_prolog_train.jsonl")              # a local file
    rows = join_references(rows, programs)       # rows gain a `reference` column, by question text

GSM8K-Prolog (Yang, Chen and Tam, "Arithmetic Reasoning with LLM: Prolog Generation &
Permutation", NAACL 2024; hub id `Thomas-X-Yang/gsm8k-prolog`, files `gsm_prolog_train.jsonl` and
`gsm_prolog_test.jsonl`, the splits of GSM8K) holds one SWI-Prolog program for every GSM8K
question: each line is `{"instruction": ..., "input": <the GSM8K question>, "output": <the
program>}`. Its `input` is GSM8K's question text, so a row joins on the question (whitespace
runs folded), not on a row number that a filtered or shuffled GSM8K copy would break. Rows whose
question it lacks get no reference; how many matched is logged.
"""
from __future__ import annotations

import logging

from datasets import Dataset

from lowres_rl.data.dataset import DatasetError, load_rows

log = logging.getLogger(__name__)

GSM8K_PROLOG = "Thomas-X-Yang/gsm8k-prolog"
QUESTION_COLUMN = "input"   # GSM8K-Prolog's question column
PROGRAM_COLUMN = "output"   # GSM8K-Prolog's program column


def _key(question: str) -> str:
    return " ".join(str(question).split())


def load_references(source: str = GSM8K_PROLOG, split: str = "train", question_column: str = QUESTION_COLUMN,
                    program_column: str = PROGRAM_COLUMN) -> dict[str, str]:
    """Question text (whitespace folded) -> reference program, from a hub id or a local file."""
    rows = load_rows(source, None, split)
    missing = [c for c in (question_column, program_column) if c not in rows.column_names]
    if missing:
        raise DatasetError(f"reference dataset {source!r} has no {missing} column (columns: {rows.column_names}); "
                           f"it should be GSM8K-Prolog ({GSM8K_PROLOG}): '{QUESTION_COLUMN}' questions and "
                           f"'{PROGRAM_COLUMN}' programs")
    programs: dict[str, str] = {}
    for question, program in zip(rows[question_column], rows[program_column]):
        if question and program and str(program).strip():
            programs.setdefault(_key(question), str(program))  # the first program of a repeated question
    if not programs:
        raise DatasetError(f"reference dataset {source!r} (split {split!r}) holds no question with a program")
    return programs


def join_references(rows: Dataset, programs: dict[str, str], question_column: str = "question",
                    reference_column: str = "reference") -> Dataset:
    """`rows` with `reference_column` set to each question's program (None where there is none)."""
    if question_column not in rows.column_names:
        raise DatasetError(f"dataset has no {question_column!r} column to join references on "
                           f"(columns: {rows.column_names})")
    references = [programs.get(_key(q)) for q in rows[question_column]]
    found = sum(r is not None for r in references)
    log.info("reference programs for %d of %d rows (joined on the question text)", found, len(rows))
    if found == 0:
        raise DatasetError(f"no question of the dataset is in the reference dataset ({len(programs)} questions): "
                           f"is it the same dataset and split (--dataset_split)?")
    if reference_column in rows.column_names:
        rows = rows.remove_columns(reference_column)
    return rows.add_column(reference_column, references)
