"""The run-free outcome predictor: trains and evaluates on a small fixture in seconds, with labels
the real executor agrees with; bad input is refused by name.

    python -m pytest -q tests/test_predictor.py
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

pytest.importorskip("sklearn")

from lowres_rl.prediction.command import main
from lowres_rl.prediction.labels import TARGETS, Example, read_examples, run_labels, split, targets_of
from lowres_rl.prediction.model import Predictor
from lowres_rl.prediction.reward import predicted_reward
from shared_paths import shared_path

FIXTURE = Path(__file__).parent / "predictor" / "completions.jsonl"
PAPER = shared_path("data", "paper-completions", "completions.jsonl")


def _fit(examples: list[Example]) -> Predictor:
    labels = {t: [targets_of(e.status)[t] for e in examples] for t in TARGETS}
    return Predictor.fit([e.text for e in examples], labels, [e.key for e in examples])


def test_fixture_covers_every_language_and_target():
    examples, skipped = read_examples(FIXTURE)
    assert skipped == 2  # the two responses without a program
    for language in ("prolog", "lisp", "hy"):
        statuses = {e.status for e in examples if e.language == language}
        assert set(TARGETS) <= statuses, (language, statuses)


def test_train_then_eval_prints_f1_per_target(tmp_path, capsys):
    model, report = tmp_path / "model.joblib", tmp_path / "eval.json"
    started = time.perf_counter()
    assert main(["train", "--completions", str(FIXTURE), "--output", str(model), "--test_fraction", "0.3"]) == 0
    assert main(["eval", "--model", str(model), "--completions", str(FIXTURE), "--json", str(report)]) == 0
    assert time.perf_counter() - started < 60
    out = capsys.readouterr().out
    for target in TARGETS:
        assert f"| {target} |" in out
    scores = json.loads(report.read_text())
    held_out = scores["held_out"]
    assert 0 < held_out < scores["programs"]  # the programs it trained on are left out
    assert set(scores["scores"]) == set(TARGETS) | {"mean"}
    assert all(scores["scores"][t]["n"] == held_out for t in TARGETS)


def test_the_model_learns_the_fixture():
    examples, _ = read_examples(FIXTURE)
    predictor = _fit(examples)
    probabilities = predictor.predict([e.text for e in examples])
    for target in TARGETS:
        right = sum((p[target] >= 0.5) == targets_of(e.status)[target] for p, e in zip(probabilities, examples))
        assert right / len(examples) >= 0.9, target


def test_saved_model_predicts_as_in_memory(tmp_path):
    examples, _ = read_examples(FIXTURE)
    predictor = _fit(examples)
    loaded = Predictor.load(predictor.save(tmp_path / "m.joblib"))
    texts = [e.text for e in examples] + ["(defn solve [] (+ 1 2))", "solve(X) :- X is 1 +."]
    assert loaded.predict(texts) == predictor.predict(texts)
    assert loaded.targets == TARGETS and loaded.seen == predictor.seen
    assert loaded.has_seen(examples[0].language, examples[0].text)


def test_executor_agrees_with_the_fixture_labels():
    examples, _ = read_examples(FIXTURE)
    few = [next(e for e in examples if e.language == lang and e.status == status)
           for lang in ("prolog", "lisp", "hy") for status in TARGETS]
    assert [e.status for e in run_labels(few)] == [e.status for e in few]


def test_split_is_seeded_grouped_and_ignores_order():
    examples, _ = read_examples(FIXTURE)
    doubled = examples + examples[:10]
    train, test = split(doubled, 0.3, seed=1)
    assert not {e.key for e in train} & {e.key for e in test}
    again_train, _ = split(list(reversed(doubled)), 0.3, seed=1)
    assert {e.key for e in again_train} == {e.key for e in train}
    assert {e.key for e in split(doubled, 0.3, seed=2)[0]} != {e.key for e in train}


@pytest.mark.parametrize("argv, named", [
    (["train", "--completions", "missing.jsonl"], "no such completions file: missing.jsonl"),
    (["train", "--completions", "{fields}"], "no 'completion'"),
    (["train", "--completions", "{fixture}", "--targets", "ok,crash"], "unknown target 'crash'"),
    (["train", "--completions", "{nostatus}", "--label", "file"], "no 'status' field"),
    (["eval", "--model", "{fixture}", "--completions", "{fixture}"], "is not a predictor model"),
    (["eval", "--model", "nope.joblib", "--completions", "{fixture}"], "no such model file: nope.joblib"),
])
def test_bad_input_is_named(tmp_path, capsys, argv, named):
    fields = tmp_path / "fields.jsonl"
    fields.write_text(json.dumps({"text": "solve(X) :- X = 1.", "status": "ok"}) + "\n")
    nostatus = tmp_path / "nostatus.jsonl"
    nostatus.write_text(json.dumps({"code": "solve(X) :- X = 1."}) + "\n")
    paths = {"fields": str(fields), "fixture": str(FIXTURE), "nostatus": str(nostatus)}
    argv = [a.format(**paths) for a in argv] + ["--output", str(tmp_path / "m.joblib")] * (argv[0] == "train")
    assert main(argv) == 2
    assert named in capsys.readouterr().err


def test_reward_function_scores_programs_and_skips_responses_without_one():
    examples, _ = read_examples(FIXTURE)
    reward = predicted_reward(_fit(examples), target="ok")
    ok = "<code>\n(defn solve [] (- 16 3 4))\n</code>\n<query>\n(solve)\n</query>"
    broken = [{"role": "assistant", "content": "<code>\n(defn solve [] (/ 1 0))\n</code>"}]
    scores = reward(completions=[ok, broken, "no code at all"], language=["hy", "hy", "hy"])
    assert scores[2] is None and 0 <= scores[1] < 0.5 <= scores[0] <= 1
    assert reward.__name__ == "predicted_ok"


@pytest.mark.skipif(PAPER is None, reason="shared/data/paper-completions is absent")
def test_paper_completions_labelled_by_the_sandbox_beat_the_baseline(tmp_path):
    report = tmp_path / "paper.json"
    assert main(["train", "--completions", str(PAPER), "--output", str(tmp_path / "m.joblib"),
                 "--json", str(report)]) == 0
    scores = json.loads(report.read_text())
    assert scores["labels"] == "run" and scores["test"] > 100
    assert scores["scores"]["mean"]["f1"] > scores["scores"]["mean"]["baseline_f1"] + 0.3


def test_without_scikit_learn_the_error_says_how_to_install(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "sklearn", None)  # what a missing package looks like
    assert main(["train", "--completions", str(FIXTURE), "--output", str(tmp_path / "m.joblib")]) == 2
    assert "pip install 'lowres-rl[research]'" in capsys.readouterr().err


# -- in training: the predicted_ok reward function (weight 0) ----------------------------------

def test_training_logs_predicted_ok_next_to_the_rewards(tmp_path, capsys):
    """`--predictor_model` adds predicted_ok to the reward functions at weight 0: TRL logs it, and
    the training rewards are the grader's alone."""
    import yaml

    import lowres_rl.training.main as train
    from lowres_rl.grading.rewards import Grader
    from lowres_rl.offline.tiny import build_tiny
    from test_train import GSM8K_TRAIN, smoke_args

    model = tmp_path / "predictor.joblib"
    assert main(["train", "--completions", str(FIXTURE), "--output", str(model)]) == 0
    tiny = build_tiny(tmp_path / "tiny", hidden_size=32)
    if not GSM8K_TRAIN.exists():
        pytest.skip("needs ../shared/data/gsm8k")
    output = tmp_path / "run"
    assert train.main(smoke_args(tiny, output, "prolog") + ["--predictor_model", str(model)]) == 0
    state = json.loads((output / "checkpoint-2" / "trainer_state.json").read_text())
    logged = [row for row in state["log_history"] if "rewards/predicted_ok/mean" in row]
    assert len(logged) == 2  # TRL called it each step (None there: a random model writes no program)
    settings = yaml.safe_load((output / "lowres_config.yaml").read_text())
    assert settings["reward_weights"] == [*Grader().weights, 0.0]  # weight 0: it shapes nothing
    rows = [json.loads(line) for line in (output / "completions.jsonl").read_text().splitlines()]
    assert all("predicted_ok" not in row for row in rows)  # a logged metric, not part of the grade
    assert train.main(smoke_args(tiny, tmp_path / "bad", "prolog") + ["--predictor_model", str(tmp_path / "none")]) == 2
    assert "--predictor_model" in capsys.readouterr().err
