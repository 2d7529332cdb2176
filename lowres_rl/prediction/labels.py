"""Examples for the outcome predictor: the programs of a completions file and their executor labels.

A label is the executor's status, read from the file (the training log `completions.jsonl` and
`python -m lowres_rl.grade`'s output both carry `status`) or obtained by running the programs
through the real sandbox. Each status becomes four binary targets: `ok` (it ran to an answer),
`syntax_error`, `runtime_error` and `timeout`; other statuses (memory, no_answer, crashed) are
negative on all four. Responses without a program (`no_program`) are left out: there is nothing to
predict from, and a pre-filter rejects them without a model.
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Sequence

from lowres_rl.grading.formats import extract_program
from lowres_rl.languages import Limits, Program, Status, available_languages, get_language
from lowres_rl.sandbox.runner import run

log = logging.getLogger("lowres_rl.prediction.labels")

TARGETS = ("ok", "syntax_error", "runtime_error", "timeout")
LABEL_SOURCES = ("auto", "file", "run")
SKIPPED = {Status.NO_PROGRAM.value, "invalid_input"}  # nothing ran: not an example


@dataclass(frozen=True)
class Example:
    """One program, its language, and the executor's status (None until labelled)."""

    language: str
    code: str
    query: str | None
    status: str | None

    @property
    def text(self) -> str:
        """What the predictor reads: the code, then the query."""
        return program_text(self.code, self.query)

    @property
    def key(self) -> str:
        """Identity of the program: identical programs share it (and a side of the split)."""
        return program_key(self.language, self.text)


def program_text(code: str, query: str | None) -> str:
    return f"{code}\n{query or ''}"


def program_key(language: str, text: str) -> str:
    return hashlib.sha256(f"{language}\0{text}".encode("utf-8")).hexdigest()[:20]


def targets_of(status: str) -> dict[str, bool]:
    """The four binary targets of an executor status."""
    return {target: status == target for target in TARGETS}


def check_targets(names: Sequence[str]) -> tuple[str, ...]:
    """`names` as targets; a ValueError naming an unknown one and listing the known."""
    for name in names:
        if name not in TARGETS:
            raise ValueError(f"unknown target {name!r}; known targets: {', '.join(TARGETS)}")
    if not names:
        raise ValueError(f"no targets given; known targets: {', '.join(TARGETS)}")
    return tuple(names)


def read_examples(path: str | Path, default_lang: str = "prolog") -> tuple[list[Example], int]:
    """The programs of a JSONL completions file (with their file status, when it has one) and how
    many rows held no program. Raises ValueError naming the file and line of a bad row."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no such completions file: {path}")
    examples, skipped = [], 0
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            example = _example(_record(line, path, number), path, number, default_lang)
            if example is None:
                skipped += 1
            else:
                examples.append(example)
    if not examples:
        raise ValueError(f"{path} holds no program to learn from ({skipped} rows without one)")
    return examples, skipped


def _record(line: str, path: Path, number: int) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}, line {number}: not JSON ({exc.msg})") from None
    if not isinstance(record, dict):
        raise ValueError(f"{path}, line {number}: a JSON object was expected, got {type(record).__name__}")
    return record


def _example(record: dict[str, Any], path: Path, number: int, default_lang: str) -> Example | None:
    """The row's program, or None when it has none (no_program, an unreadable grader line)."""
    language = str(record.get("language") or record.get("lang") or default_lang)
    if language not in available_languages():
        raise ValueError(f"{path}, line {number}: unknown language {language!r}; "
                         f"known: {', '.join(available_languages())}")
    status = record.get("status")
    if status is not None and (not isinstance(status, str) or status not in {s.value for s in Status} | SKIPPED):
        raise ValueError(f"{path}, line {number}: status {status!r} is not an executor status "
                         f"({', '.join(s.value for s in Status)})")
    if status in SKIPPED:
        return None
    if isinstance(record.get("code"), str):
        program = Program(record["code"], record.get("query") if isinstance(record.get("query"), str) else None)
    elif isinstance(record.get("completion"), str):
        program = extract_program(record["completion"], get_language(language))
    else:
        raise ValueError(f"{path}, line {number}: no 'completion' (a model response) or 'code' "
                         f"(a bare program) text field; fields are {', '.join(sorted(record)) or 'none'}")
    if program.error or not program.code.strip():
        return None
    return Example(language, program.code, program.query, status)


def label(examples: list[Example], source: str, limits: Limits | None = None,
          workers: int | None = None) -> tuple[list[Example], str]:
    """`examples` with their executor status and where it came from: `file` (every row must have
    one), `run` (the real sandbox), or `auto` (the file's when every row has one, else run)."""
    if source not in LABEL_SOURCES:
        raise ValueError(f"unknown label source {source!r}; choose one of {', '.join(LABEL_SOURCES)}")
    missing = sum(example.status is None for example in examples)
    if source == "file" and missing:
        raise ValueError(f"--label file: {missing} of {len(examples)} programs have no 'status' field; "
                         f"use --label run to execute them")
    if source == "file" or (source == "auto" and not missing):
        return examples, "file"
    return run_labels(examples, limits, workers), "run"


def run_labels(examples: Sequence[Example], limits: Limits | None = None,
               workers: int | None = None) -> list[Example]:
    """`examples` relabelled by running each program through the real sandbox, per language."""
    statuses: list[str | None] = [None] * len(examples)
    for language in sorted({example.language for example in examples}):
        places = [i for i, example in enumerate(examples) if example.language == language]
        programs = [Program(examples[i].code, examples[i].query) for i in places]
        log.info("running %d %s programs to label them", len(programs), language)
        for i, execution in zip(places, run(get_language(language), programs, limits, workers)):
            statuses[i] = execution.status.value
    return [replace(example, status=status) for example, status in zip(examples, statuses)]


def split(examples: Sequence[Example], test_fraction: float, seed: int) -> tuple[list[Example], list[Example]]:
    """A deterministic train/test split by program: a program's side is decided by a seeded hash of
    its text, so identical programs never land on both sides and the split ignores row order."""
    if not 0 <= test_fraction < 1:
        raise ValueError(f"--test_fraction must be in [0, 1), got {test_fraction}")
    train, test = [], []
    for example in examples:
        draw = int(hashlib.sha256(f"{seed}\0{example.key}".encode()).hexdigest()[:12], 16) / 16 ** 12
        (test if draw < test_fraction else train).append(example)
    return train, test
