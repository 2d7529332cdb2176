"""Tests for lowres_rl.evaluation (main, sampling, records, repair, completions, metrics, generation, plots):
the whole command on a tiny offline model, exact figures over hand-written completions, the repair
protocol with a scripted model, and `compare` (the pass@k estimator: tests/test_metrics.py).

    python -m pytest tests/test_evaluate.py -q
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from shared_paths import SHARED

import lowres_rl.evaluation.compare as compare
import lowres_rl.evaluation.main as evaluate
import lowres_rl.evaluation.metrics as metrics
import lowres_rl.evaluation.records as records
from lowres_rl.evaluation.repair import repair
from lowres_rl.evaluation.sampling import resolve_sampling
from lowres_rl.evaluation.generation import Generation, Sampling
from lowres_rl import sandbox

GSM8K_TEST = SHARED / "data/gsm8k/test.jsonl"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny Qwen2 model, built once. Generation runs on one thread: the model is too small to
    gain from more, and OpenMP threads spinning on a busy machine can slow it down fifty-fold."""
    import torch

    from lowres_rl.offline.tiny import build_tiny

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield build_tiny(tmp_path_factory.mktemp("tiny"))
    torch.set_num_threads(threads)


@pytest.fixture(scope="module", autouse=True)
def close_pools() -> None:
    """These tests grade with one sandbox worker per language; stop those pools afterwards so
    later test modules start their own, at their own size."""
    yield
    from lowres_rl.languages import get_language

    for name in ("prolog", "lisp", "hy"):
        sandbox.close(get_language(name))


def read_results(directory: Path) -> dict:
    return json.loads((directory / "results.json").read_text(encoding="utf-8"))


def assert_outputs(directory: Path, languages: list[str]) -> dict:
    """Every output file is there and holds the figures of every language."""
    for name in ("results.json", "results.md", "accuracy.png", "statuses.png"):
        assert (directory / name).is_file(), name
    for name in ("accuracy.png", "statuses.png"):
        assert (directory / name).read_bytes().startswith(PNG)
    results = read_results(directory)
    table = (directory / "results.md").read_text(encoding="utf-8")
    assert list(results["figures"]) == languages
    for language in languages:
        assert f"| {language} |" in table
    # diagnostics beyond accuracy, per language: statuses, error types, lengths (lowres_rl.evaluation.diagnostics)
    assert list(results["diagnostics"]) == languages
    for language in languages:
        figures = results["diagnostics"][language]
        assert sum(figures["statuses"].values()) == sum(p["n_samples"] for p in results["problems"][language])
    return results


# -- (a) the whole command with the tiny model ---------------------------------------------------

def tiny_args(model: Path, output: Path, *extra: str) -> list[str]:
    return ["--model", str(model), "--dataset", str(GSM8K_TEST), "--limit", "3", "--max-new-tokens", "16",
            "--lang", "prolog,hy", "--workers", "1", "--output_dir", str(output), *extra]


def test_tiny_model_greedy(tiny: Path, tmp_path: Path) -> None:
    assert evaluate.main(tiny_args(tiny, tmp_path)) == 0
    results = assert_outputs(tmp_path, ["prolog", "hy"])
    assert results["settings"]["sampling"]["temperature"] == 0
    assert results["settings"]["accuracy"] == "greedy pass@1"
    golds = ["18", "3", "70000"]  # the first three GSM8K test answers
    for language in ("prolog", "hy"):
        figures, problems = results["figures"][language], results["problems"][language]
        assert figures["n_problems"] == figures["n_samples"] == 3
        assert sum(figures["statuses"].values()) == 3
        assert 0 <= figures["accuracy"] <= 1 and 0 <= figures["format_rate"] <= 1
        assert 0 <= figures["hardcoded_rate"] <= 1
        assert 0 < figures["mean_tokens"] <= 16
        assert "pass_at_k" not in figures and "any_of_n" not in figures  # one greedy sample
        assert [p["gold"] for p in problems] == golds
        for problem in problems:
            [sample] = problem["samples"]
            assert isinstance(sample["completion"], str) and sample["status"] in figures["statuses"]
            assert set(sample) >= {"answer", "correct", "hardcoded", "strict_format", "error", "tokens"}


def test_tiny_model_samples_and_repair(tiny: Path, tmp_path: Path) -> None:
    argv = tiny_args(tiny, tmp_path, "--samples", "2", "--repair-turns", "1", "--tries", "2")
    assert evaluate.main(argv) == 0
    results = assert_outputs(tmp_path, ["prolog", "hy"])
    assert results["settings"]["sampling"]["n"] == 2 and results["settings"]["sampling"]["temperature"] > 0
    for language in ("prolog", "hy"):
        figures = results["figures"][language]
        assert figures["n_samples"] == 6 and sum(figures["statuses"].values()) == 6
        assert set(figures["pass_at_k"]) == {"1", "2"}
        assert figures["pass_at_k"]["1"] == pytest.approx(figures["accuracy"])
        assert {"any_of_n", "all_of_n", "best_of"} <= set(figures)
        repair = figures["repair"]
        assert len(repair["accuracy_by_turn"]) == 2 and repair["accuracy_by_turn"][0] == figures["accuracy"]
        failed = 6 - figures["statuses"].get("ok", 0)
        assert repair["attempts_by_turn"] == [6, failed]
        repaired = [s for p in results["problems"][language] for s in p["samples"] if s["repairs"]]
        assert len(repaired) == failed and all(len(s["repairs"]) == 1 for s in repaired)
    assert "repair turn 1" in (tmp_path / "results.md").read_text(encoding="utf-8")


def test_bad_setups_fail_fast_with_a_clear_message(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    import importlib.util

    base = ["--dataset", str(GSM8K_TEST), "--limit", "1", "--output_dir", str(tmp_path)]
    if importlib.util.find_spec("vllm") is None:
        assert evaluate.main([*base, "--backend", "vllm"]) == 2
        assert "pip install 'lowres-rl[vllm]'" in capsys.readouterr().err
    assert evaluate.main([*base, "--protocol", "paper", "--samples", "8"]) == 2
    assert "--samples 8" in capsys.readouterr().err
    assert evaluate.main([*base, "--lang", "cobol"]) == 2
    assert "cobol" in capsys.readouterr().err
    assert evaluate.main(["--completions", str(tmp_path / "missing.jsonl")]) == 2
    assert "missing.jsonl" in capsys.readouterr().err


def test_paper_protocol_settings() -> None:
    args = evaluate.make_parser().parse_args(["--protocol", "paper"])
    assert resolve_sampling(args) == Sampling(n=4, temperature=0.1, top_p=0.95, top_k=50,
                                                       max_new_tokens=1024)
    assert resolve_sampling(evaluate.make_parser().parse_args([])) == Sampling()


# -- (b) exact figures over hand-written completions ---------------------------------------------

def paper_response(code: str, query: str) -> str:
    return f"<reasoning>\nStep by step.\n</reasoning>\n<code>\n{code}\n</code>\n<query>\n{query}\n</query>"


EGGS = "laid(16). eaten(3). baked(4). price(2).\n"
COMPLETIONS = [
    # prolog p1, gold 18: a wrong answer (26), then a correct program
    {"lang": "prolog", "index": "p1", "answer": "Janet makes 18.\n#### 18",
     "completion": paper_response(EGGS + "solve(X) :- laid(L), eaten(E), price(P), X is (L - E) * P.", "solve(X).")},
    {"lang": "prolog", "index": "p1", "answer": "Janet makes 18.\n#### 18",
     "completion": paper_response(EGGS + "solve(X) :- laid(L), eaten(E), baked(B), price(P), X is (L - E - B) * P.",
                                  "solve(X).")},
    # prolog p2, gold 3: a syntax error, then a correct program in a bare fence (not strict format)
    {"lang": "prolog", "index": "p2", "answer": "3", "completion": paper_response("solve(X) :- X is 1 + .", "solve(X).")},
    {"lang": "prolog", "index": "p2", "answer": "3",
     "completion": "Here it is:\n```prolog\nsolve(X) :- X is 2 + 1.\n```"},
    # prolog p3, gold 5: no code block at all
    {"lang": "prolog", "index": "p3", "answer": "#### 5", "completion": "<reasoning>\nIt is 5.\n</reasoning>"},
    # prolog p4, gold 1290: correct, but the answer is hard-coded
    {"lang": "prolog", "index": "p4", "answer": "1,290", "question": "A shop sold 43 boxes of 30 pens. How many pens?",
     "completion": paper_response("solve(X) :- X = 1290.", "solve(X).")},
    # lisp: two samples per problem
    {"lang": "lisp", "index": 1, "answer": "42", "completion": paper_response("(defun solve () (* 6 7))", "(solve)")},
    {"lang": "lisp", "index": 1, "answer": "42", "completion": paper_response("(defun solve () (+ 40 2))", "(solve)")},
    {"lang": "lisp", "index": 2, "answer": "10", "completion": paper_response("(defun solve () (/ 10 0))", "(solve)")},
    {"lang": "lisp", "index": 2, "answer": "10", "completion": paper_response("(defun solve () (+ 5 4))", "(solve)")},
    {"lang": "lisp", "index": 3, "answer": "7", "completion": paper_response("(defun solve () (+ 3 4)", "(solve)")},
    {"lang": "lisp", "index": 3, "answer": "7", "completion": paper_response("(defun solve () (+ 3 4))", "(solve)")},
    # hy: no 'lang' (the --lang default) and no 'index' (each line its own problem)
    {"answer": "20", "tokens": 10, "completion": paper_response("(defn solve [] (* 4 5))", "(solve)")},
    {"answer": "8", "tokens": 20, "completion": paper_response("(defn solve [] (+ 4 5))", "(solve)")},
    {"answer": "8", "tokens": 30, "completion": "I think the answer is 8."},
]


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    directory = tmp_path_factory.mktemp("completions")
    source = directory / "completions.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in COMPLETIONS), encoding="utf-8")
    output = directory / "eval"
    assert evaluate.main(["--completions", str(source), "--lang", "hy", "--tries", "2", "--workers", "1",
                          "--output_dir", str(output)]) == 0
    return output, assert_outputs(output, ["prolog", "lisp", "hy"])


def test_completions_prolog_exact(graded: tuple[Path, dict]) -> None:
    figures = graded[1]["figures"]["prolog"]
    assert (figures["n_problems"], figures["n_samples"], figures["samples_min"], figures["samples_max"]) == (4, 6, 1, 2)
    assert figures["statuses"] == {"no_program": 1, "ok": 4, "syntax_error": 1}
    assert figures["accuracy"] == pytest.approx((1 / 2 + 1 / 2 + 0 + 1) / 4)
    assert figures["pass_at_k"] == {"1": pytest.approx(0.5)}  # pass@2 needs 2 samples for every problem
    assert figures["any_of_n"] == pytest.approx(3 / 4)
    assert figures["all_of_n"] == pytest.approx(1 / 4)
    assert figures["best_of"] == {"n": 2, "solved": pytest.approx(3 / 4), "first_ok": pytest.approx(2 / 4)}
    assert figures["hardcoded_rate"] == pytest.approx(1 / 6)
    assert figures["format_rate"] == pytest.approx(4 / 6)
    assert figures["mean_tokens"] is None  # no --model to count with, no 'tokens' field
    assert figures["mean_seconds"] > 0


def test_completions_lisp_exact(graded: tuple[Path, dict]) -> None:
    figures = graded[1]["figures"]["lisp"]
    assert (figures["n_problems"], figures["n_samples"]) == (3, 6)
    assert figures["statuses"] == {"ok": 4, "runtime_error": 1, "syntax_error": 1}
    assert figures["accuracy"] == pytest.approx((2 / 2 + 0 + 1 / 2) / 3)
    assert figures["pass_at_k"] == {"1": pytest.approx(1 / 2), "2": pytest.approx((1 + 0 + 1) / 3)}
    assert figures["any_of_n"] == pytest.approx(2 / 3)
    assert figures["all_of_n"] == pytest.approx(1 / 3)
    # the first sample that runs: correct (1), ok but wrong (2), correct after a syntax error (3)
    assert figures["best_of"] == {"n": 2, "solved": pytest.approx(2 / 3), "first_ok": pytest.approx(2 / 3)}
    assert figures["hardcoded_rate"] == 0
    assert figures["format_rate"] == 1


def test_completions_hy_exact(graded: tuple[Path, dict]) -> None:
    output, results = graded
    figures = results["figures"]["hy"]
    assert (figures["n_problems"], figures["n_samples"]) == (3, 3)
    assert figures["statuses"] == {"no_program": 1, "ok": 2}
    assert figures["accuracy"] == pytest.approx(1 / 3)
    assert "pass_at_k" not in figures and "any_of_n" not in figures
    assert figures["best_of"] == {"n": 2, "solved": pytest.approx(1 / 3), "first_ok": pytest.approx(1 / 3)}
    assert figures["mean_tokens"] == 20
    assert [p["index"] for p in results["problems"]["hy"]] == ["line 13", "line 14", "line 15"]
    table = (output / "results.md").read_text(encoding="utf-8")
    assert "| hy | 3 | 1 | 33.3% |" in table
    assert "| lisp | 3 | 2 | 50.0% | 0.0% | 50.0% | 66.7% | 66.7% | 33.3% |" in table


def test_completions_problem_records(graded: tuple[Path, dict]) -> None:
    [p1, p2, p3, p4] = graded[1]["problems"]["prolog"]
    assert (p1["index"], p1["gold"], p1["n_correct"], p1["solved"]) == ("p1", "18", 1, True)
    assert [(s["status"], s["answer"], s["correct"]) for s in p1["samples"]] == [("ok", "26", False), ("ok", "18", True)]
    assert [s["status"] for s in p2["samples"]] == ["syntax_error", "ok"]
    assert "Syntax error" in p2["samples"][0]["error"]
    assert (p3["samples"][0]["status"], p3["solved"]) == ("no_program", False)
    assert (p4["gold"], p4["samples"][0]["hardcoded"], p4["samples"][0]["correct"]) == ("1290", True, True)
    assert p4["question"].startswith("A shop sold")


def test_completions_with_reference_programs_report_similarity(tmp_path: Path) -> None:
    """A line's `reference` field (--reference_column) gives its sample bleu, rouge_l and token_f1,
    and the language's diagnostics their means; lines without one have none, and --reference_language
    keeps references from other languages' rows."""
    program, reference = "solve(X) :- X is 6 * 7.", "solve(X) :- X is 6 * 7.\nsolve(X)."  # code and query
    rows = [{"lang": "prolog", "answer": "42", "reference": reference, "completion": paper_response(program, "solve(X).")},
            {"lang": "prolog", "answer": "42", "reference": reference,
             "completion": paper_response("solve(X) :- X is 40 + 2.", "solve(X).")},
            {"lang": "prolog", "answer": "42", "completion": paper_response(program, "solve(X).")},
            {"lang": "lisp", "answer": "42", "reference": reference, "completion": paper_response("(defun solve () 42)", "(solve)")}]
    source = tmp_path / "completions.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    assert evaluate.main(["--completions", str(source), "--lang", "prolog,lisp", "--workers", "1",
                          "--reference_language", "prolog", "--output_dir", str(tmp_path / "eval")]) == 0
    results = read_results(tmp_path / "eval")
    samples = [p["samples"][0] for p in results["problems"]["prolog"]]
    assert samples[0]["similarity"]["bleu"] == 1.0 and 0 < samples[1]["similarity"]["bleu"] < 1
    assert "similarity" not in samples[2] and "similarity" not in results["problems"]["lisp"][0]["samples"][0]
    similarity = results["diagnostics"]["prolog"]["similarity"]
    assert similarity["n_with_reference"] == 2
    assert similarity["bleu"] == pytest.approx((1.0 + samples[1]["similarity"]["bleu"]) / 2, abs=1e-4)
    assert "similarity" not in results["diagnostics"]["lisp"]
    assert "| prolog | 2 | " in (tmp_path / "eval" / "results.md").read_text(encoding="utf-8")


def test_completions_file_errors(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    source = tmp_path / "bad.jsonl"
    source.write_text(json.dumps({"completion": "x", "answer": "7", "lang": "prolog"}) + "\n"
                      + json.dumps({"completion": "x", "answer": "no number"}) + "\n", encoding="utf-8")
    assert evaluate.main(["--completions", str(source), "--output_dir", str(tmp_path)]) == 2
    assert f"{source}:2" in capsys.readouterr().err
    assert evaluate.main(["--completions", str(source), "--repair-turns", "1"]) == 2
    assert "--repair_turns" in capsys.readouterr().err


# -- the repair protocol with a scripted model ---------------------------------------------------

class ScriptedModel:
    """Answers each conversation with the next scripted reply for its question; records calls."""

    def __init__(self, replies: dict[str, list[str]]) -> None:
        self.replies = {q: list(r) for q, r in replies.items()}
        self.calls: list[list[list[dict]]] = []

    def generate(self, conversations, sampling, desc=""):
        self.calls.append([list(c) for c in conversations])
        return [[Generation(self.replies[self._question(c)].pop(0), 5)] for c in conversations]

    @staticmethod
    def _question(conversation: list[dict]) -> str:
        return next(m["content"] for m in conversation if m["role"] == "user")


def test_repair_turns_show_the_error_and_count_per_turn(tmp_path: Path) -> None:
    questions = ["Q1: 2 + 3?", "Q2: 4 * 5?"]
    model = ScriptedModel({
        questions[0]: [paper_response("solve(X) :- X is 2 + .", "solve(X)."),     # syntax error
                       paper_response("solve(X) :- X is 2 + 3.", "solve(X).")],   # repaired
        questions[1]: [paper_response("solve(X) :- X is 4 + 5.", "solve(X)."),    # runs, wrong: final
                       "never asked"],
    })
    args = evaluate.make_parser().parse_args(["--workers", "1", "--repair-turns", "2"])
    grader = records.make_grader(args, "prolog")
    conversations = [[{"role": "user", "content": q}] for q in questions]
    outputs = model.generate(conversations, Sampling())
    grades = grader.grade([o[0].text for o in outputs], ["5", "20"], "prolog", questions)
    problems = [records.problem_record(i, q, g, [records.sample_record(o[0].text, grade, 5)])
                for i, (q, g, o, grade) in enumerate(zip(questions, ["5", "20"], outputs, grades))]
    repair(model, grader, "prolog", conversations, problems, Sampling(), turns=2)

    assert len(model.calls) == 2  # turn 1 repairs Q1 only; turn 2 finds nothing left to repair
    [chat] = model.calls[1]
    assert [m["role"] for m in chat] == ["user", "assistant", "user"]
    assert "syntax_error" in chat[2]["content"] and "Syntax error" in chat[2]["content"]
    [repaired] = problems[0]["samples"][0]["repairs"]
    assert (repaired["status"], repaired["answer"], repaired["correct"]) == ("ok", "5", True)
    assert problems[1]["samples"][0]["repairs"] == []
    figures = metrics.language_figures(problems, repair_turns=2)
    assert figures["accuracy"] == 0
    assert figures["repair"]["accuracy_by_turn"] == [0, 1 / 2, 1 / 2]
    assert figures["repair"]["attempts_by_turn"] == [2, 1, 0]
    assert figures["repair"]["statuses_after"] == {"ok": 2}


# -- (d) compare ---------------------------------------------------------------------------------

def figures_of(accuracy: float, any_of_4: float | None = None) -> dict:
    figures = {"n_problems": 10, "n_samples": 10, "samples_min": 1, "samples_max": 1, "accuracy": accuracy,
               "hardcoded_rate": 0.1, "format_rate": 0.5, "statuses": {"ok": 10}, "mean_tokens": None,
               "mean_seconds": None}
    if any_of_4 is not None:
        figures.update(samples_min=4, samples_max=4, n_samples=40, any_of_n=any_of_4, all_of_n=accuracy / 2)
    return figures


def write_run(directory: Path, figures: dict) -> Path:
    directory.mkdir()
    (directory / "results.json").write_text(json.dumps({"settings": {}, "figures": figures, "problems": {}}))
    return directory


def test_compare(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    a = write_run(tmp_path / "base", {"prolog": figures_of(0.30, 0.50), "lisp": figures_of(0.20)})
    b = write_run(tmp_path / "grpo", {"prolog": figures_of(0.45, 0.55), "lisp": figures_of(0.15),
                                      "hy": figures_of(0.10)})
    rows, path, labels = compare.compare(a, b)
    assert path == b / "compare.png" and path.read_bytes().startswith(PNG)
    assert labels == ("base", "grpo")
    by = {(r["language"], r["figure"]): r for r in rows}
    assert by["prolog", "accuracy"]["diff_points"] == pytest.approx(15.0)
    assert by["prolog", "any-of-4"]["diff_points"] == pytest.approx(5.0)
    assert by["prolog", "all-of-4"]["diff_points"] == pytest.approx(7.5)
    assert by["lisp", "accuracy"]["diff_points"] == pytest.approx(-5.0)
    assert by["lisp", "format"]["diff_points"] == 0
    assert (by["hy", "accuracy"]["a"], by["hy", "accuracy"]["b"], by["hy", "accuracy"]["diff_points"]) == (None, 0.10, None)

    out = tmp_path / "cmp"
    assert evaluate.main(["compare", str(a / "results.json"), str(b), "--output_dir", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "| prolog | accuracy | 30.0% | 45.0% | +15.0 pt |" in printed
    assert "| lisp | accuracy | 20.0% | 15.0% | -5.0 pt |" in printed
    assert (out / "compare.png").read_bytes().startswith(PNG)
    assert evaluate.main(["compare", str(a), str(tmp_path / "nowhere")]) == 2
    assert "nowhere" in capsys.readouterr().err


def test_lora_adapter_is_loaded_on_top(tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """A LoRA adapter with non-zero weights changes the greedy completions; a bad one is refused."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    adapter = tmp_path / "adapter"
    config = LoraConfig(r=8, lora_alpha=64, target_modules="all-linear", init_lora_weights=False)
    get_peft_model(AutoModelForCausalLM.from_pretrained(tiny), config).save_pretrained(adapter)
    base = ["--model", str(tiny), "--dataset", str(GSM8K_TEST), "--limit", "1", "--max-new-tokens", "8",
            "--lang", "prolog", "--workers", "1"]
    assert evaluate.main([*base, "--output_dir", str(tmp_path / "base")]) == 0
    assert evaluate.main([*base, "--adapter", str(adapter), "--output_dir", str(tmp_path / "lora")]) == 0
    completion = {run: read_results(tmp_path / run)["problems"]["prolog"][0]["samples"][0]["completion"]
                  for run in ("base", "lora")}
    assert completion["base"] != completion["lora"]
    assert read_results(tmp_path / "lora")["settings"]["adapter"] == str(adapter)
    assert evaluate.main([*base, "--adapter", str(tmp_path), "--output_dir", str(tmp_path / "bad")]) == 2
    assert "adapter_config.json" in capsys.readouterr().err
