"""The grader's TRL reward functions, called the way GRPOTrainer calls them: one grading per
batch shared by every component's function, each completion analysed once, the language column
(or the grader's language), and the variant's own format. The grading table is tests/test_rewards.py."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from test_rewards import HY, LI, LIMITS, PL, Q42, QH, REASONING, fenced, response

from lowres_rl.grading.rewards import Grade, Grader


# -- one grading per batch, the way TRL calls the reward functions -----------------------------

def _trl_kwargs(texts: list[str], answers: list[str], languages: list[str], questions: list[str],
                step: int, logged: list) -> dict[str, Any]:
    """What GRPOTrainer._calculate_rewards passes: prompts, completions (conversational), ids, every
    dataset column, and trainer_state / log_extra / log_metric."""
    return {
        "prompts": [[{"role": "user", "content": q}] for q in questions],
        "completions": [[{"role": "assistant", "content": t}] for t in texts],
        "completion_ids": [[1, 2, 3] for _ in texts],
        "answer": answers,
        "question": questions,
        "language": languages,
        "index": list(range(len(texts))),
        "trainer_state": SimpleNamespace(global_step=step),
        "log_extra": lambda column, values: logged.append(("extra", column)),
        "log_metric": lambda name, value: logged.append(("metric", name)),
    }


def test_reward_functions_share_one_grading_per_batch():
    batches: list[list[Grade]] = []
    grader = Grader("default", limits=LIMITS, on_batch=lambda grades, texts, columns: batches.append(grades))
    functions = grader.reward_functions()
    assert [f.__name__ for f in functions] == grader.names

    first = [response(PL), response(LI, "(solve)"), response(HY, "(solve)"), "no code at all",
             response("solve(X) :- X is 6 * .", "solve(X)."), response("", "(solve)")]
    languages = ["prolog", "lisp", "hy", "prolog", "prolog", "lisp"]
    logged: list = []
    kwargs = _trl_kwargs(first, ["42"] * 6, languages, [Q42] * 6, step=1, logged=logged)
    outputs = {f.__name__: f(**kwargs) for f in functions}
    with_code = 4  # the prose and the empty code block have no program
    assert grader.programs_run == with_code
    assert len(batches) == 1
    assert outputs["format"] == pytest.approx([1.0, 1.0, 1.0, 0.0, 1.0, 0.8])
    assert outputs["correctness"] == [1.0, 1.0, 1.0, 0.0, 0.0, 0.0]
    assert outputs["execution"] == [0.0, 0.0, 0.0, -1.0, -1.0, -1.0]
    assert all(len(v) == len(first) for v in outputs.values())
    assert outputs == {name: [g.scores[name] for g in batches[0]] for name in grader.names}

    # a new batch: the first function grades it once, the rest reuse that grading
    second = [response("solve(X) :- X is 43 * 30."), response("(defn solve [] (* 43 30))", "(solve)"), "prose"]
    kwargs = _trl_kwargs(second, ["1290"] * 3, ["prolog", "hy", "hy"], [QH] * 3, step=2, logged=logged)
    outputs = {f.__name__: f(**kwargs) for f in functions}
    assert grader.programs_run == with_code + 2
    assert len(batches) == 2
    assert outputs["correctness"] == [1.0, 1.0, 0.0]

    # a later function meeting a batch it has not seen grades it (once), without the first one
    third = [response("solve(X) :- X is 1 + 1.")]
    kwargs = _trl_kwargs(third, ["2"], ["prolog"], ["What is 1 + 1?"], step=3, logged=logged)
    assert functions[1](**kwargs) == [1.0]
    assert functions[2](**kwargs) == [0.0]
    assert grader.programs_run == with_code + 3
    assert len(batches) == 3


@pytest.mark.parametrize("preset", ["default", "paper"])
def test_each_completion_is_analysed_once_per_grading(preset: str, monkeypatch) -> None:
    """The grader scans a completion once: structure, program, strictness and every component
    read that one structure (no second scan for the program). Every route to a scan is counted:
    the formats' reading and the lenient reader itself."""
    import lowres_rl.grading.formats as formats
    import lowres_rl.grading.response as response_module

    scanned: list[str] = []
    original = response_module.analyse

    def counting(text: str):
        scanned.append(text)
        return original(text)

    monkeypatch.setattr(formats, "analyse", counting)
    monkeypatch.setattr(response_module, "analyse", counting)
    texts = [response(PL), f"Here it is:\n{fenced('prolog', PL)}\n", "no code at all"]
    grader = Grader(preset, limits=LIMITS)
    grades = grader.grade(texts, ["42"] * 3, "prolog", [Q42] * 3)
    assert sorted(scanned) == sorted(texts)
    assert [g.correct for g in grades] == [True, True, False]
    scanned.clear()
    functions = grader.reward_functions()  # TRL: one call per component, one grading per batch
    kwargs = _trl_kwargs(texts, ["42"] * 3, ["prolog"] * 3, [Q42] * 3, step=1, logged=[])
    assert [f(**kwargs) for f in functions] == [[g.scores[f.__name__] for g in grades] for f in functions]
    assert sorted(scanned) == sorted(texts)


def test_a_bad_variant_is_refused_when_the_grader_is_made() -> None:
    with pytest.raises(ValueError, match="'Paper'; expected one of: paper, answer"):
        Grader("default", variant="Paper")


def test_answer_variant_is_graded_by_its_format() -> None:
    text = f"<reasoning>\n{REASONING}\n</reasoning>\n<answer>\n{HY}\n</answer>\n"
    [answer] = Grader("default", variant="answer", limits=LIMITS).grade([text], ["42"], "hy", [Q42])
    [paper] = Grader("default", limits=LIMITS).grade([text], ["42"], "hy", [Q42])
    assert (answer.strict_format, answer.scores["format"], answer.correct) == (True, 1.0, True)
    assert (paper.strict_format, paper.scores["format"], paper.correct) == (False, 0.4, True)


def test_reward_functions_without_language_column_use_the_graders_language():
    grader = Grader("default", limits=LIMITS, language="hy")
    functions = grader.reward_functions()
    scores = [f(prompts=None, completions=[response(HY, "(solve)")], answer=["42"], question=[Q42])
              for f in functions]
    assert scores[1] == [1.0]
    assert grader.programs_run == 1
