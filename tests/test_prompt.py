"""Tests for lowres_rl.data.prompt: the prompt files parse, messages have the right shape, every worked
example runs in the real interpreter and gives the hand-computed answer, and no GSM8K question
leaked into a prompt."""
from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
from shared_paths import SHARED

from lowres_rl.languages import Program, get_language
from lowres_rl.data.prompt import (
    STYLES, Example, build_messages, load_prompt, render_response, shown_query, system_prompt,
)
from lowres_rl.languages.resources import resource
from lowres_rl.grading.formats import FORMATS
from lowres_rl import sandbox
from lowres_rl.grading.formats import extract_program

LANGUAGES = ("prolog", "lisp", "hy")
TITLES = {"prolog": "Prolog", "lisp": "Common Lisp", "hy": "Hy"}
# Worked out by hand from each example's question, in file order.
EXPECTED = {
    "prolog": [3, 76, 40, 5.25, 66],
    "lisp": [384, 84, 70, 16.5, 60],
    "hy": [20, 60, 59, 450, 302.4],
}
PAPER = re.compile(r"^<reasoning>\n[\s\S]+\n</reasoning>\n<code>\n[\s\S]+\n</code>\n<query>\n.+\n</query>$")
ANSWER = re.compile(r"^<reasoning>\n[\s\S]+\n</reasoning>\n<answer>\n[\s\S]+\n</answer>$")
SHARED = SHARED
QUESTION = "What is 2 + 3?"


def spec(name: str):
    return load_prompt(get_language(name).prompt_file())


@pytest.mark.parametrize("name", LANGUAGES)
def test_prompt_file_parses(name: str) -> None:
    parsed = spec(name)
    assert parsed.title == TITLES[name]
    assert parsed.conventions
    assert len(parsed.examples) == 5
    for ex in parsed.examples:
        assert all((ex.question, ex.reasoning, ex.code, ex.query))
        assert "```" not in ex.code + ex.query


@pytest.mark.parametrize("name", LANGUAGES)
def test_example_queries_are_the_default(name: str) -> None:
    language = get_language(name)
    for ex in spec(name).examples:
        assert ex.query == shown_query(language)
        assert language.normalize_query(ex.query) == language.default_query


def test_prolog_examples_use_clpq() -> None:
    assert sum("library(clpq)" in ex.code for ex in spec("prolog").examples) >= 2


@pytest.mark.parametrize("name", LANGUAGES)
@pytest.mark.parametrize("variant", list(FORMATS))
@pytest.mark.parametrize("shots", [0, 1, 5])
def test_build_messages(name: str, variant: str, shots: int) -> None:
    messages = build_messages(QUESTION, name, variant=variant, shots=shots)
    roles = [m["role"] for m in messages]
    assert roles == ["system"] + ["user", "assistant"] * shots + ["user"]
    assert messages[-1]["content"] == QUESTION
    assert messages[0]["content"] == system_prompt(name, variant)
    examples = spec(name).examples
    for i in range(shots):
        assert messages[1 + 2 * i]["content"] == examples[i].question
        assert messages[2 + 2 * i]["content"] == render_response(examples[i], variant)
    assert build_messages(QUESTION, get_language(name), variant, shots) == messages


@pytest.mark.parametrize("name", LANGUAGES)
def test_system_prompt(name: str) -> None:
    paper, answer = system_prompt(name, "paper"), system_prompt(name, "answer")
    for text in (paper, answer):
        assert TITLES[name] in text and shown_query(name) in text
        assert "{language}" not in text and "{default_query}" not in text
        assert text.endswith(spec(name).conventions)
    assert "<query>" in paper and "<code>" in paper and "<answer>" not in paper
    assert "<answer>" in answer and "<query>" not in answer
    assert system_prompt(name) == paper


@pytest.mark.parametrize("name", LANGUAGES)
@pytest.mark.parametrize("variant", list(FORMATS))
def test_compact_style_asks_for_the_same_format_in_a_few_lines(name: str, variant: str) -> None:
    """Same tags as the full prompt (the grader needs no change), the language's hint, a fraction
    of the length; few-shot turns are those of the full style."""
    compact, full = system_prompt(name, variant, "compact"), system_prompt(name, variant, "full")
    tags = ("<reasoning>", "<code>", "<query>") if variant == "paper" else ("<reasoning>", "<answer>")
    assert all(tag in compact for tag in tags) and TITLES[name] in compact and shown_query(name) in compact
    assert "{" + "hint}" not in compact and "{language}" not in compact
    assert ("defn solve" if name == "hy" else "defun solve" if name == "lisp" else "solve(X)") in compact
    assert len(compact) < len(full) / 3
    messages = build_messages(QUESTION, name, variant, shots=2, style="compact")
    assert messages[0]["content"] == compact
    assert messages[1:] == build_messages(QUESTION, name, variant, shots=2)[1:]


def test_a_language_without_a_compact_hint_gets_the_format_alone() -> None:
    import copy

    from lowres_rl.data.prompt import _load_hints

    hints = _load_hints(resource("prompts", "compact.md"))
    assert set(hints) == set(LANGUAGES)
    prolog = get_language("prolog")
    plugin = copy.copy(prolog)
    plugin.name = "unhinted"  # a plugin compact.md knows nothing about, with its own prompt file
    plugin.prompt_file = prolog.prompt_file
    assert system_prompt(plugin, "paper", "compact").endswith("solve(X).\n</query>")
    with pytest.raises(ValueError, match="'tiny'.*full, compact"):
        system_prompt("prolog", "paper", "tiny")
    assert STYLES == ("full", "compact")


def test_prolog_query_has_full_stop() -> None:
    assert shown_query("prolog") == "solve(X)."
    assert shown_query("lisp") == shown_query("hy") == "(solve)"


@pytest.mark.parametrize("name", LANGUAGES)
def test_rendered_responses(name: str) -> None:
    for ex in spec(name).examples:
        assert PAPER.match(render_response(ex))
        assert ANSWER.match(render_response(ex, "answer"))
        assert ex.query not in render_response(ex, "answer")


@pytest.mark.parametrize("name", LANGUAGES)
@pytest.mark.parametrize("variant", list(FORMATS))
def test_rendered_responses_parse_back(name: str, variant: str) -> None:
    """The few-shot turns are strict responses of their variant and parse back to their program."""
    from lowres_rl.grading.formats import is_strict

    language = get_language(name)
    for ex in spec(name).examples:
        text = render_response(ex, variant)
        assert is_strict(text, variant)
        program = extract_program(text, language, variant)
        assert program.code.strip() == ex.code.strip()
        assert language.normalize_query(program.query or language.default_query) == language.default_query


@pytest.mark.parametrize("bad", ["", "Paper", "json"])
def test_bad_variant(bad: str) -> None:
    for call in (lambda: build_messages(QUESTION, "prolog", variant=bad),
                 lambda: system_prompt("prolog", bad),
                 lambda: render_response(spec("prolog").examples[0], bad)):
        with pytest.raises(ValueError, match=re.escape(repr(bad))) as info:
            call()
        assert "paper" in str(info.value) and "answer" in str(info.value)


@pytest.mark.parametrize("bad", [-1, 6, 100])
def test_bad_shots(bad: int) -> None:
    with pytest.raises(ValueError, match=re.escape(f"shots {bad} ")):
        build_messages(QUESTION, "lisp", shots=bad)


@pytest.mark.parametrize("name", LANGUAGES)
def test_examples_run_and_are_correct(name: str) -> None:
    language = get_language(name)
    examples = spec(name).examples
    results = sandbox.run(language, [Program(code=ex.code, query=ex.query) for ex in examples])
    for i, (ex, result, expected) in enumerate(zip(examples, results, EXPECTED[name], strict=True)):
        assert result.status == "ok", f"{name} example {i + 1}: {result.status} {result.error}"
        assert math.isclose(float(result.answer), expected, rel_tol=1e-9), \
            f"{name} example {i + 1}: got {result.answer}, expected {expected}"


@pytest.mark.parametrize("name", LANGUAGES)
def test_examples_run_in_answer_variant(name: str) -> None:
    """The answer variant has no query block: the default query must give the same answers."""
    language = get_language(name)
    results = sandbox.run(language, [Program(code=ex.code) for ex in spec(name).examples])
    assert [float(r.answer) for r in results] == pytest.approx(EXPECTED[name])


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "broken.md"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = "# Toy\n\n## conventions\nBe nice.\n\n## example\n### question\nQ?\n### reasoning\nR.\n" \
       "### code\n```toy\n# not a heading\nx\n```\n### query\nq\n"


def test_load_prompt_minimal_and_fences(tmp_path: Path) -> None:
    parsed = load_prompt(write(tmp_path, GOOD))
    assert parsed.title == "Toy" and parsed.conventions == "Be nice."
    assert parsed.examples == (Example("Q?", "R.", "# not a heading\nx", "q"),)


@pytest.mark.parametrize("text, problem", [
    ("", "title"),
    ("intro\n" + GOOD, "start"),
    (GOOD.replace("## conventions\nBe nice.\n\n", ""), "conventions"),
    (GOOD.replace("Be nice.", ""), "empty"),
    (GOOD.replace("### reasoning\nR.\n", ""), "reasoning"),
    (GOOD.replace("### query\nq\n", ""), "query"),
    (GOOD.replace("### query", "### answer"), "answer"),
    (GOOD.split("## example")[0], "example"),
    (GOOD + "## notes\nmore\n", "notes"),
])
def test_load_prompt_malformed(tmp_path: Path, text: str, problem: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ValueError, match=problem) as info:
        load_prompt(path)
    assert str(path) in str(info.value)


def prompt_files() -> list[Path]:
    return [resource("prompts", "formats.md")] + [get_language(n).prompt_file() for n in LANGUAGES]


@pytest.mark.parametrize("split", ["train", "test"])
def test_no_gsm8k_question_in_prompts(split: str) -> None:
    path = SHARED / "data" / "gsm8k" / f"{split}.jsonl"
    if not path.exists():
        pytest.skip(f"{path} not available")
    with path.open(encoding="utf-8") as lines:
        questions = [json.loads(line)["question"] for line, _ in zip(lines, range(200))]
    assert len(questions) == 200
    texts = [p.read_text(encoding="utf-8") for p in prompt_files()]
    for question in questions:
        prefix = question[:40]
        assert not any(prefix in text for text in texts), f"GSM8K question in a prompt: {prefix!r}"
