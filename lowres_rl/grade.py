"""Grade a file of completions: one JSON object per line in, the same plus its grade out.

    python -m lowres_rl.grade --lang prolog --input completions.jsonl --output graded.jsonl
    python -m lowres_rl.grade --reward_preset paper --input paper.jsonl
    python -m lowres_rl.grade --bare --lang lisp --input programs.jsonl   # completions are programs

Each input line is `{"completion": "...", "answer": "18"}`; optional `"lang"` overrides --lang
and `"question"` enables the hard-coding check (lines without one are graded with it off, and
the log says so once); `"reference"`, a reference program, adds the similarity components bleu,
rouge_l and token_f1 (lowres_rl.grading.similarity; weight 0 unless the preset weighs them;
lines without one have none). A bare program, a line `{"code": "...", "query": "...", "answer": ...}` or
any line under `--bare`, is graded as if it came in `<code>`/`<query>` tags (its format scores
then describe those tags, not the model). Each output line adds every reward component, the
total `reward`, `status`, executed `answer` (as `executed`), `correct`, `hardcoded`, `strict`
(the whole response is exactly the format), `error` and `error_type` (the language's name for the
error: `existence_error`, `UNDEFINED-FUNCTION`, `NameError`, "timeout", ...; empty when none).

One output line per input line, always valid JSON: a line that cannot be read (blank, not UTF-8,
invalid or too deeply nested JSON, lone surrogates, missing or non-numeric fields, numbers too
large to read) is written as `{"line": N, "error": ..., "status": "invalid_input"}` with zero
scores, and everything else is graded. The summary goes to stderr.
"""
from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from typing import Any, BinaryIO, Iterator, TextIO

from lowres_rl.grading.answers import MAX_DIGITS, gold_answer
from lowres_rl.languages import available_languages
from lowres_rl.grading.presets import PRESETS, with_similarity
from lowres_rl.grading.rewards import Grade, Grader, summary
from lowres_rl.settings import LIMITS, add_arguments, settings_from

log = logging.getLogger("lowres_rl.grade")
BATCH = 512
Entry = tuple[int, "dict[str, Any] | None", str]  # line number, record (None: unreadable), problem


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lowres_rl.grade", description=__doc__.split("\n")[0])
    parser.add_argument("--input", required=True, help="JSONL file of completions ('-' for stdin)")
    parser.add_argument("--output", help="where to write graded JSONL (default: stdout)")
    add_arguments(parser, ["lang", "reward_preset", "variant"], helps={
        "lang": f"language of lines without a 'lang' field (one of {', '.join(available_languages())})",
        "variant": "response format the strict-format check expects"})
    parser.add_argument("--bare", action="store_true",
                        help="each 'completion' is a bare program (no tags); its query is the line's 'query' "
                             "field or the language's default")
    add_arguments(parser, [*LIMITS, "workers"])
    return parser


def _number(text: str) -> Any:
    """JSON numbers too large to hold (`1e999`, 5,000 digits) stay text: never inf, never expanded."""
    if len(text) > MAX_DIGITS:
        return text
    value = float(text) if any(c in text for c in ".eE") else int(text)
    return value if not isinstance(value, float) or math.isfinite(value) else text


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def read_record(raw: bytes, default_lang: str, bare: bool = False) -> dict[str, Any]:
    """One input line as a gradable record; raises ValueError saying why it is not one."""
    if not raw.strip():
        raise ValueError("blank line")
    try:
        record = json.loads(raw.decode("utf-8"), parse_float=_number, parse_int=_number,
                            parse_constant=_constant)
        json.dumps(record, ensure_ascii=False).encode("utf-8")  # what is read can be written back
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    except UnicodeEncodeError:
        raise ValueError("a lone surrogate in a string (not valid Unicode text)") from None
    if not isinstance(record, dict):
        raise ValueError("expected a JSON object")
    if bare or ("completion" not in record and isinstance(record.get("code"), str)):
        record["bare"] = True
        record["completion"] = _tagged(record.get("code", record.get("completion")), record.get("query"))
    if not isinstance(record.get("completion"), str):
        raise ValueError("expected an object with a string 'completion' (or 'code' for a bare program)")
    record["answer"] = gold_answer(str(record.get("answer", "")))
    record.setdefault("lang", default_lang)
    return record


def _tagged(code: Any, query: Any) -> str:
    if not isinstance(code, str):
        raise ValueError("a bare program needs a string 'code' (or 'completion')")
    tags = f"<code>\n{code}\n</code>\n"
    return tags + (f"<query>\n{query}\n</query>\n" if isinstance(query, str) and query.strip() else "")


def read_lines(stream: BinaryIO, default_lang: str, bare: bool = False) -> Iterator[Entry]:
    """(line number, record or None, problem) for every input line, blank ones included."""
    for number, raw in enumerate(stream, 1):
        try:
            yield number, read_record(raw, default_lang, bare), ""
        except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            yield number, None, str(exc)[:300]


def grade_stream(grader: Grader, source: BinaryIO, sink: TextIO, default_lang: str,
                 bare: bool = False) -> list[Grade]:
    """Grade `source` in batches, writing one line per input line; returns the valid grades."""
    graded: list[Grade] = []
    batch: list[Entry] = []
    said: set[str] = set()
    for entry in read_lines(source, default_lang, bare):
        _say_once(entry, said)
        batch.append(entry)
        if len(batch) >= BATCH:
            graded += _flush(grader, batch, sink)
    graded += _flush(grader, batch, sink)
    return graded


def _say_once(entry: Entry, said: set[str]) -> None:
    number, record, _ = entry
    if record is None:
        return
    if not record.get("question") and "question" not in said:
        said.add("question")
        log.warning("line %d has no 'question': the hard-coding check is off for lines without one", number)
    text = record["completion"]
    if not record.get("bare") and "tags" not in said and "<code>" not in text and "```" not in text:
        said.add("tags")
        log.warning("line %d has no <code> tag and no code fence: use --bare if the completions are "
                    "bare programs", number)


def _flush(grader: Grader, batch: list[Entry], sink: TextIO) -> list[Grade]:
    valid = [record for _, record, _ in batch if record is not None]
    try:
        grades = grader.grade([r["completion"] for r in valid], [r["answer"] for r in valid],
                              [str(r["lang"]) for r in valid], [str(r.get("question") or "") for r in valid],
                              [r.get("reference") for r in valid])
    except Exception as exc:  # noqa: BLE001 - a batch that cannot be graded still gets its lines
        log.exception("grading a batch of %d lines failed", len(valid))
        grades, problem = [], f"grading failed: {exc}"
        batch[:] = [(n, None, problem if r is not None else p) for n, r, p in batch]
    pending = iter(grades)
    out = []
    for number, record, problem in batch:
        if record is None:
            log.error("line %d: %s; graded as zero", number, problem)
            row = _invalid(grader, number, problem)
        else:
            grade = next(pending)
            out.append(grade)
            row = {**record, **grade.scores, "reward": grade.reward, "status": grade.status,
                   "executed": grade.answer, "correct": grade.correct, "hardcoded": grade.hardcoded,
                   "strict": grade.strict_format, "error": grade.error, "error_type": grade.error_type}
        sink.write(_dumps(row, grader, number) + "\n")
    batch.clear()
    return out


def _invalid(grader: Grader, number: int, problem: str) -> dict[str, Any]:
    return {"line": number, "error": problem, "reward": 0.0, "status": "invalid_input",
            **{name: 0.0 for name in grader.names}}


def _dumps(row: dict[str, Any], grader: Grader, number: int) -> str:
    """The row as one line of valid JSON; text a program printed that is not valid Unicode is
    escaped rather than allowed to stop the output."""
    try:
        return json.dumps(row, ensure_ascii=False, allow_nan=False).encode("utf-8").decode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(row, allow_nan=False)
    except (ValueError, TypeError, RecursionError) as exc:
        return json.dumps(_invalid(grader, number, f"unwritable grade: {exc}"))


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parser = make_parser()
    args = parser.parse_args(argv)
    settings = settings_from(args, parser)
    grader = Grader(with_similarity(PRESETS[settings.reward_preset]), variant=settings.variant, limits=settings.limits(),
                    workers=settings.workers, language=settings.lang)
    source = sys.stdin.buffer if args.input == "-" else open(args.input, "rb")
    sink = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    with source, sink:
        grades = grade_stream(grader, source, sink, args.lang, args.bare)
    print(json.dumps(summary(grades), indent=2), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
