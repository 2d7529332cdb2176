"""Tests for `python -m lowres_rl.grade`: a file of completions in, one graded line per input line
out, the summary on stderr, malformed lines reported by number and graded as zero."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from shared_paths import SHARED

PAPER_COMPLETIONS = SHARED / "data" / "paper-completions" / "completions.jsonl"
Q42 = "Tom packs 6 boxes with 7 apples in each box. How many apples does he pack?"


def response(code: str, query: str) -> str:
    return (f"<reasoning>\n6 boxes of 7 apples.\n</reasoning>\n<code>\n{code}\n</code>\n"
            f"<query>\n{query}\n</query>\n")


# (record, correct) — every record names its language; the summary's accuracy is checked against these
WRITTEN: list[tuple[dict[str, Any], bool]] = [
    ({"completion": response("solve(X) :- X is 6 * 7.", "solve(X)."), "answer": "42", "lang": "prolog"}, True),
    ({"completion": response("solve(X) :- X is 6 * 7.", "solve(X)."), "answer": "#### 41", "lang": "prolog"}, False),
    ({"completion": response("(defun solve () (* 6 7))", "(solve)"), "answer": "42", "lang": "lisp"}, True),
    ({"completion": response("(defn solve [] (/ 7 2))", "(solve)"), "answer": "3.5", "lang": "hy"}, True),
    ({"completion": response("solve(X) :- X is 6 * .", "solve(X)."), "answer": "42", "lang": "prolog"}, False),
    ({"completion": "The answer is 42.", "answer": "42", "lang": "hy"}, False),
    ({"completion": response("(defun solve () (* 6 7))", "(solve)"), "answer": "Six times seven.\n#### 42",
      "lang": "lisp", "question": Q42}, True),
    ({"completion": response("solve(X) :- X = 42.", "solve(X)."), "answer": "42", "lang": "prolog",
      "question": Q42}, True),  # correct, but hard-coded
]


def run_grade(*args: str, stdin: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lowres_rl.grade", *args], input=stdin, capture_output=True,
                          text=True, timeout=timeout)


def summary_of(stderr: str) -> dict[str, Any]:
    """The summary: the JSON object that ends stderr (log lines come before it)."""
    lines = stderr.splitlines()
    start = max(i for i, line in enumerate(lines) if line == "{")
    return json.loads("\n".join(lines[start:]))


def write_jsonl(path: Path, records: list[Any]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records), encoding="utf-8")
    return path


def test_grades_200_completions(tmp_path: Path):
    records = [WRITTEN[i % len(WRITTEN)][0] for i in range(200)]
    source = write_jsonl(tmp_path / "in.jsonl", records)
    out = tmp_path / "out.jsonl"
    result = run_grade("--input", str(source), "--output", str(out), "--timeout", "2")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 200
    components = {"format", "correctness", "execution", "lint", "hardcoded"}
    for i, row in enumerate(rows):
        record, correct = WRITTEN[i % len(WRITTEN)]
        assert row["completion"] == record["completion"] and row["lang"] == record["lang"]
        assert components <= set(row) and {"reward", "status", "executed", "correct", "hardcoded"} <= set(row)
        assert row["correct"] is correct, (i, row)
        assert row["reward"] == pytest.approx(row["format"] + 2 * row["correctness"])
    assert [r["answer"] for r in rows[:2]] == ["42", "41"]  # golds are canonicalised (#### 41 -> 41)
    assert rows[7]["hardcoded"] is True and rows[7]["correctness"] == 0.0
    assert rows[4]["status"] == "syntax_error" and rows[5]["status"] == "no_program"

    stats = summary_of(result.stderr)
    assert stats["n"] == 200
    assert stats["accuracy"] == pytest.approx(sum(rows[i]["correct"] for i in range(200)) / 200)
    assert stats["accuracy"] == pytest.approx(sum(WRITTEN[i % len(WRITTEN)][1] for i in range(200)) / 200)
    assert sum(stats["statuses"].values()) == 200


def test_paper_completions_through_the_cli(tmp_path: Path):
    if not PAPER_COMPLETIONS.is_file():
        pytest.skip(f"paper completions not found at {PAPER_COMPLETIONS}")
    rows = [json.loads(line) for line in PAPER_COMPLETIONS.read_text(encoding="utf-8").splitlines()]
    records = [{"completion": rows[i % len(rows)]["completion"], "answer": rows[i % len(rows)]["answer"],
                "question": rows[i % len(rows)]["question"]} for i in range(0, 2 * len(rows), 5)][:200]
    assert len(records) == 200
    source = write_jsonl(tmp_path / "paper.jsonl", records)
    result = run_grade("--input", str(source), "--reward-preset", "paper")  # graded lines go to stdout
    assert result.returncode == 0, result.stderr
    graded = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(graded) == 200
    for record, row in zip(records, graded):
        assert {"xmlcount", "strict_format", "soft_format", "correctness", "reward", "status"} <= set(row)
        assert "format" not in row and row["question"] == record["question"]
        assert row["soft_format"] in (0.0, 0.5) and row["correctness"] in (-1.0, -0.5, 0.0, 1.0)
        assert row["reward"] - (row["xmlcount"] + row["soft_format"] + row["correctness"]) in (
            pytest.approx(0.0), pytest.approx(0.5))
    assert summary_of(result.stderr)["n"] == 200


def test_paper_columns_add_up_to_the_reward():
    # strict for the grammar (whitespace around blocks) but not for the paper's regex (no final newline)
    text = response("solve(X) :- X is 6 * 7.", "solve(X).").rstrip("\n")
    result = run_grade("--input", "-", "--reward-preset", "paper",
                       stdin=json.dumps({"completion": text, "answer": "42"}) + "\n")
    assert result.returncode == 0, result.stderr
    [row] = [json.loads(line) for line in result.stdout.splitlines()]
    assert row["strict_format"] == 0.0
    assert row["reward"] == pytest.approx(row["xmlcount"] + row["strict_format"] + row["soft_format"]
                                          + row["correctness"])


def test_malformed_lines_are_reported_and_graded_zero(tmp_path: Path):
    good = WRITTEN[0][0]
    lines = [
        good,                                    # 1
        "this is not json",                      # 2
        {"answer": "42"},                        # 3: no completion
        "",                                      # 4: blank: a line saying so
        {"completion": 42, "answer": "42"},      # 5: completion not a string
        [good["completion"], "42"],              # 6: not an object
        {"completion": "x", "answer": "many"},   # 7: no numeric gold
        {"completion": "x"},                     # 8: no gold at all
        '{"completion": "unterminated',          # 9
        good,                                    # 10
    ]
    source = write_jsonl(tmp_path / "mixed.jsonl", lines)
    result = run_grade("--input", str(source))
    assert result.returncode == 0, result.stderr
    graded = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(graded) == 10  # one line per input line, in order
    bad_numbers = [2, 3, 4, 5, 6, 7, 8, 9]
    for number in bad_numbers:
        assert f"line {number}: " in result.stderr, result.stderr
    assert "line 1:" not in result.stderr and "line 10:" not in result.stderr
    invalid = [row for row in graded if row.get("status") == "invalid_input"]
    assert [row["line"] for row in invalid] == bad_numbers
    for row in invalid:
        assert row["reward"] == 0.0 and row["error"]
        assert all(row[name] == 0.0 for name in ("format", "correctness", "execution", "lint", "hardcoded"))
    assert graded[0]["correct"] is True and graded[-1]["correct"] is True
    assert summary_of(result.stderr)["n"] == 2  # the summary counts what could be graded


def test_stdin_and_default_language(tmp_path: Path):
    record = {"completion": response("(defn solve [] (* 6 7))", "(solve)"), "answer": "42"}
    result = run_grade("--input", "-", "--lang", "hy", stdin=json.dumps(record) + "\n")
    assert result.returncode == 0, result.stderr
    [row] = [json.loads(line) for line in result.stdout.splitlines()]
    assert (row["lang"], row["status"], row["correct"]) == ("hy", "ok", True)


def test_unknown_preset_is_refused():
    result = run_grade("--input", "-", "--reward-preset", "nonsense", stdin="")
    assert result.returncode == 2
    assert "nonsense" in result.stderr


def test_undecodable_line_is_reported_not_fatal(tmp_path: Path):
    good = json.dumps(WRITTEN[0][0]).encode()
    source = tmp_path / "bytes.jsonl"
    source.write_bytes(good + b"\n" + b'{"completion": "\xff\xfe", "answer": "42"}\n' + good + b"\n")
    result = run_grade("--input", str(source))
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(result.stdout.splitlines()) == 3
    assert "line 2: " in result.stderr


def test_without_a_question_nothing_is_flagged(tmp_path: Path):
    honest = {"completion": response("apples(5).\nsolve(X) :- apples(X).", "solve(X)."), "answer": "5"}
    result = run_grade("--input", "-", stdin=json.dumps(honest) + "\n")
    assert result.returncode == 0, result.stderr
    [row] = [json.loads(line) for line in result.stdout.splitlines()]
    assert row["correct"] is True
    assert row["hardcoded"] is False and row["correctness"] == 1.0


def strict_json(line: str) -> Any:
    """Parse as standard JSON: NaN and Infinity are refused, as other readers refuse them."""
    def refuse(name: str) -> None:
        raise ValueError(f"{name} is not JSON")
    return json.loads(line, parse_constant=refuse)


def test_every_bad_kind_of_line_gets_its_own_valid_output_line(tmp_path: Path):
    good = json.dumps(WRITTEN[0][0])
    bad = {
        "invalid json": "{not json",
        "deep nesting": "[" * 200_000 + "]" * 200_000,
        "deep nesting in a field": '{"completion": "x", "answer": "1", "extra": ' + "[" * 200_000 + "]" * 200_000 + "}",
        "lone surrogate": '{"completion": "\\ud800 solve", "answer": "42"}',
        "lone surrogate in another field": '{"completion": "x", "answer": "42", "note": "\\udfff"}',
        "missing completion": '{"answer": "42"}',
        "missing answer": '{"completion": "x"}',
        "huge float answer": '{"completion": "x", "answer": 1e99999999}',
        "huge integer answer": '{"completion": "x", "answer": ' + "9" * 100_000 + "}",
        "huge answer text": '{"completion": "x", "answer": "1e99999999"}',
        "NaN": '{"completion": "x", "answer": NaN}',
        "not an object": "[1, 2]",
        "blank": "   ",
        "not utf-8": b'{"completion": "\xff", "answer": "1"}',
    }
    lines: list[bytes] = []
    for kind, line in bad.items():
        lines += [good.encode(), line if isinstance(line, bytes) else line.encode()]
    lines.append(good.encode())
    source = tmp_path / "bad.jsonl"
    source.write_bytes(b"\n".join(lines) + b"\n")
    result = run_grade("--input", str(source), "--timeout", "5")
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout.splitlines()
    assert len(out) == len(lines)
    rows = [strict_json(line) for line in out]
    for i, kind in enumerate(bad):
        number = 2 * i + 2
        row = rows[number - 1]
        assert row["status"] == "invalid_input" and row["line"] == number and row["error"], (kind, row)
        assert f"line {number}: " in result.stderr, kind
    assert all(rows[i]["correct"] is True for i in range(0, len(lines), 2))


def test_a_huge_extra_number_is_kept_as_text_and_the_line_graded(tmp_path: Path):
    record = dict(WRITTEN[0][0])
    line = json.dumps(record)[:-1] + ', "weight": 1e99999999, "count": ' + "7" * 5000 + "}"
    result = run_grade("--input", "-", stdin=line + "\n")
    assert result.returncode == 0, result.stderr
    [row] = [strict_json(line) for line in result.stdout.splitlines()]
    assert row["correct"] is True and row["weight"] == "1e99999999" and row["count"] == "7" * 5000


def test_bare_programs_are_graded(tmp_path: Path):
    lines = [{"code": "solve(X) :- X is 6 * 7.", "answer": "42", "lang": "prolog"},
             {"code": "(defun total () (* 6 7))", "query": "(total)", "answer": "42", "lang": "lisp"},
             {"code": "solve(X) :- X = 42.", "answer": "42", "lang": "prolog", "question": Q42}]
    result = run_grade("--input", "-", stdin="".join(json.dumps(r) + "\n" for r in lines))
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["bare"], r["correct"], r["hardcoded"]) for r in rows] == [(True, True, False), (True, True, False),
                                                                        (True, True, True)]
    completions = [{"completion": "(defn solve [] (* 6 7))", "answer": "42"}]
    result = run_grade("--input", "-", "--bare", "--lang", "hy", stdin=json.dumps(completions[0]) + "\n")
    [row] = [json.loads(line) for line in result.stdout.splitlines()]
    assert row["bare"] is True and row["correct"] is True


def test_untagged_completions_suggest_bare_once():
    record = {"completion": "solve(X) :- X is 6 * 7.", "answer": "42"}
    result = run_grade("--input", "-", stdin=(json.dumps(record) + "\n") * 3)
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("--bare") == 1
    assert all(json.loads(line)["status"] == "no_program" for line in result.stdout.splitlines())


def test_missing_questions_are_announced_once():
    records = [WRITTEN[0][0]] * 3
    result = run_grade("--input", "-", stdin="".join(json.dumps(r) + "\n" for r in records))
    assert result.stderr.count("hard-coding check is off") == 1
    with_question = {**WRITTEN[0][0], "question": Q42}
    result = run_grade("--input", "-", stdin=json.dumps(with_question) + "\n")
    assert "hard-coding check is off" not in result.stderr
