"""Grade a file of completions: one JSON object per line in, the same plus its grade out.

    python -m lowres_rl.grade --lang prolog --input completions.jsonl --output graded.jsonl
    python -m lowres_rl.grade --reward-preset paper --input paper.jsonl

Each input line is `{"completion": "...", "answer": "18"}`; optional `"lang"` overrides --lang
and `"question"` enables the hard-coding check. Each output line adds every reward component,
the total `reward`, `status`, executed `answer` (as `executed`), `correct`, `hardcoded` and
`strict` (the whole response is exactly the format). A
malformed line is reported with its line number and graded as zero. The summary goes to stderr.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any, BinaryIO, Iterator, TextIO

from lowres_rl.answers import gold_answer
from lowres_rl.cli import add_limit_arguments, limits_from
from lowres_rl.languages import available_languages
from lowres_rl.presets import PRESETS
from lowres_rl.rewards import Grade, Grader, summary

log = logging.getLogger("lowres_rl.grade")
BATCH = 512


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lowres_rl.grade", description=__doc__.split("\n")[0])
    parser.add_argument("--input", required=True, help="JSONL file of completions ('-' for stdin)")
    parser.add_argument("--output", help="where to write graded JSONL (default: stdout)")
    parser.add_argument("--lang", default="prolog",
                        help=f"language of lines without a 'lang' field (one of {', '.join(available_languages())})")
    parser.add_argument("--reward-preset", default="default", choices=sorted(PRESETS),
                        help="reward components and weights (default %(default)s)")
    parser.add_argument("--variant", default="paper", choices=["paper", "answer"],
                        help="response format the strict-format check expects")
    add_limit_arguments(parser)
    parser.add_argument("--workers", type=int, help="sandbox workers per language (default: all cores)")
    return parser


def read_lines(stream: BinaryIO, default_lang: str) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
    """(line number, record or None, problem) for every non-blank line."""
    for number, raw in enumerate(stream, 1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw.decode("utf-8"))
            if not isinstance(record, dict) or not isinstance(record.get("completion"), str):
                raise ValueError("expected an object with a string 'completion'")
            record["answer"] = gold_answer(str(record.get("answer", "")))
            record.setdefault("lang", default_lang)
            yield number, record, ""
        except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            yield number, None, str(exc)


def grade_stream(grader: Grader, source: BinaryIO, sink: TextIO, default_lang: str) -> list[Grade]:
    """Grade `source` in batches, writing one line per input line; returns the valid grades."""
    graded: list[Grade] = []
    batch: list[tuple[int, dict[str, Any] | None, str]] = []
    for entry in read_lines(source, default_lang):
        batch.append(entry)
        if len(batch) >= BATCH:
            graded += _flush(grader, batch, sink)
    graded += _flush(grader, batch, sink)
    return graded


def _flush(grader: Grader, batch: list, sink: TextIO) -> list[Grade]:
    valid = [record for _, record, _ in batch if record is not None]
    grades = iter(grader.grade([r["completion"] for r in valid], [r["answer"] for r in valid],
                               [r["lang"] for r in valid], [str(r.get("question", "")) for r in valid]))
    out = []
    for number, record, problem in batch:
        if record is None:
            log.error("line %d: %s; graded as zero", number, problem)
            row = {"line": number, "error": problem, "reward": 0.0, "status": "invalid_input",
                   **{name: 0.0 for name in grader.names}}
        else:
            grade = next(grades)
            out.append(grade)
            row = {**record, **grade.scores, "reward": grade.reward, "status": grade.status,
                   "executed": grade.answer, "correct": grade.correct, "hardcoded": grade.hardcoded,
                   "strict": grade.strict_format, "error": grade.error}
        sink.write(json.dumps(row, ensure_ascii=False) + "\n")
    batch.clear()
    return out


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parser = make_parser()
    args = parser.parse_args(argv)
    try:
        limits = limits_from(args)
    except ValueError as exc:
        parser.error(str(exc))
    grader = Grader(args.reward_preset, variant=args.variant, limits=limits, workers=args.workers, language=args.lang)
    source = sys.stdin.buffer if args.input == "-" else open(args.input, "rb")
    sink = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    with source, sink:
        grades = grade_stream(grader, source, sink, args.lang)
    print(json.dumps(summary(grades), indent=2), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
