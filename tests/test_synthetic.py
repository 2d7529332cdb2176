"""Tests for lowres_rl.offline.synthetic: determinism, coverage, row shape, and that every
reference solution, run by the real interpreter, prints the gold answer."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from lowres_rl.offline.synthetic import Problem, TEMPLATES, generate, synthetic_languages, to_row, write_jsonl
from lowres_rl import sandbox

BATCH = generate(3 * len(TEMPLATES), seed=123)
WORD_NUMBERS = {"twice": "2", "three times": "3", "four times": "4"}
CASES = [(lang, i) for lang in ("prolog", "lisp", "hy") for i in range(len(BATCH))]


def test_same_seed_same_problems() -> None:
    assert generate(20, seed=7) == generate(20, seed=7)


def test_different_seeds_differ() -> None:
    a = [p.question for p in generate(20, seed=1)]
    b = [p.question for p in generate(20, seed=2)]
    assert a != b


def test_every_template_appears() -> None:
    assert len(TEMPLATES) >= 6
    assert {p.template for p in generate(len(TEMPLATES), seed=0)} == set(TEMPLATES)


def test_template_subset_and_unknown() -> None:
    assert {p.template for p in generate(5, seed=3, templates=["boxes"])} == {"boxes"}
    with pytest.raises(ValueError):
        generate(1, templates=["nope"])


def test_answers_are_nonnegative_integer_strings() -> None:
    for p in generate(200, seed=11):
        assert isinstance(p, Problem)
        assert re.fullmatch(r"0|[1-9][0-9]*", p.answer), p


def test_solutions_only_use_numbers_from_question() -> None:
    """No program hard-codes the answer: its literals all come from the question."""
    for p in generate(200, seed=5):
        allowed = set(re.findall(r"\d+", p.question)) | {"100"}
        allowed |= {d for w, d in WORD_NUMBERS.items() if w in p.question}
        assert set(p.solutions) == {"prolog", "lisp", "hy"}
        for code in p.solutions.values():
            assert set(re.findall(r"(?<![\w-])\d+\b", code)) <= allowed, code


def test_to_row_shape(tmp_path: Path) -> None:
    problems = generate(4, seed=9)
    row = to_row(problems[0])
    assert set(row) == {"question", "answer"}
    assert row["question"] == problems[0].question
    reasoning, final = row["answer"].rsplit("\n#### ", 1)
    assert reasoning.strip() and final == problems[0].answer
    path = tmp_path / "s.jsonl"
    write_jsonl(problems, path)
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert rows == [to_row(p) for p in problems]


def _run(lang: str, code: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    """Run one program with the real interpreter, printing its default query."""
    if lang == "prolog":
        src = tmp / "prog.pl"
        src.write_text(code)
        goal = f"consult('{src}'), solve(X), print(X), nl"
        cmd = ["swipl", "-q", "-g", goal, "-t", "halt"]
    elif lang == "lisp":
        src = tmp / "prog.lisp"
        src.write_text(code + "\n(print (solve))\n")
        cmd = ["sbcl", "--script", str(src)]
    else:
        src = tmp / "prog.hy"
        src.write_text(code + "\n(print (solve))\n")
        cmd = ["hy", str(src)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=tmp)


@pytest.mark.parametrize(("lang", "index"), CASES)
def test_solution_runs_to_gold(lang: str, index: int, tmp_path: Path) -> None:
    exe = {"prolog": "swipl", "lisp": "sbcl", "hy": "hy"}[lang]
    if shutil.which(exe) is None:
        pytest.skip(f"{exe} not installed")
    problem = BATCH[index]
    proc = _run(lang, problem.solutions[lang], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == problem.answer, (problem.template, proc.stdout, proc.stderr)


def test_batch_covers_all_templates() -> None:
    assert {p.template for p in BATCH} == set(TEMPLATES)


# -- the classic slips -------------------------------------------------------------------------

def test_every_problem_has_a_slipped_program_with_another_answer() -> None:
    for p in generate(400, seed=5):
        assert set(p.mistakes) == {"prolog", "lisp", "hy"}
        assert p.mistake_answer != p.answer, p
        assert all(p.mistakes[lang] != p.solutions[lang] for lang in p.mistakes)


@pytest.mark.parametrize("lang", ["prolog", "lisp", "hy"])
def test_slipped_programs_run_to_their_wrong_answer(lang: str) -> None:
    from lowres_rl.languages import Limits, Program, get_language

    language = get_language(lang)
    if language.missing():
        pytest.skip(f"{lang} is not installed here")
    results = sandbox.run(language, [Program(p.mistakes[lang]) for p in BATCH], Limits(timeout=5.0), workers=2)
    assert [(r.status.value, r.answer) for r in results] == [("ok", p.mistake_answer) for p in BATCH]


def test_warm_up_pairs_mix_in_slipped_programs_at_the_rate_asked() -> None:
    from lowres_rl.offline.warmup import synthetic_pairs

    problems = generate(200, seed=4)
    clean = synthetic_pairs(problems, ["prolog"])
    mixed = synthetic_pairs(problems, ["prolog"], mistake_rate=0.5, seed=1)
    assert all(p.solutions["prolog"] in response for p, (_, response) in zip(problems, clean))
    slipped = sum(p.mistakes["prolog"] in response for p, (_, response) in zip(problems, mixed))
    kept = sum(p.solutions["prolog"] in response for p, (_, response) in zip(problems, mixed))
    assert slipped + kept == 200 and 70 <= slipped <= 130, slipped
    assert synthetic_pairs(problems, ["prolog"], mistake_rate=0.5, seed=1) == mixed  # seeded
    with pytest.raises(ValueError, match="mistake_rate"):
        synthetic_pairs(problems, ["prolog"], mistake_rate=1.5)


def test_the_languages_with_synthetic_programs_are_those_that_write_them() -> None:
    """The demo's --lang choices: every language overriding Language.synthetic (the example
    Scheme plugin does not)."""
    names = synthetic_languages()
    assert {"prolog", "lisp", "hy"} <= set(names) and "scheme" not in names
