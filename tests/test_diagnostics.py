"""Diagnostics beyond pass@1: the error type each real interpreter reports for its common errors
(through sandbox workers), Execution.error_type from untrusted replies, the hooks' defaults, the
per-language figures on a hand-made sample set, compare with and without diagnostics, the plot,
and the training metrics."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import lowres_rl.evaluation.compare as compare
import lowres_rl.evaluation.diagnostics as diagnostics
import lowres_rl.evaluation.plots as plots
import lowres_rl.evaluation.report as report
from lowres_rl import sandbox
from lowres_rl.grading.rewards import Grade, Grader
from lowres_rl.languages import Execution, Limits, Program, Status, get_language
from lowres_rl.languages.base import Language
from lowres_rl.languages.contract import MAX_ERROR_TYPE
from lowres_rl.training.completions import CompletionLog, diagnostic_metrics

PNG = b"\x89PNG"

# language -> (program, query or None, status, error type): each language's common errors.
ERRORS = {
    "prolog": [
        ("solve(X) :- helper(X).", None, Status.RUNTIME_ERROR, "existence_error"),
        ("solve(X) :- X is foo + 1.", None, Status.RUNTIME_ERROR, "type_error"),
        ("solve(X) :- X is Y + 1.", None, Status.RUNTIME_ERROR, "instantiation_error"),
        ("solve(X) :- X is 1/0.", None, Status.RUNTIME_ERROR, "evaluation_error"),
        ("solve(X) :- X is (1 + .", None, Status.SYNTAX_ERROR, "syntax_error"),
        ("solve(1).", "solve(X", Status.SYNTAX_ERROR, "syntax_error"),
        ("solve(X) :- halt.", None, Status.RUNTIME_ERROR, "permission_error"),
        ("solve(X) :- throw(my_ball).", None, Status.RUNTIME_ERROR, "unhandled_exception"),
    ],
    "lisp": [
        ('(defun solve () (+ 1 "a"))', None, Status.RUNTIME_ERROR, "TYPE-ERROR"),
        ("(defun solve () (helper 1))", None, Status.RUNTIME_ERROR, "UNDEFINED-FUNCTION"),
        ("(defun solve () (+ x 1))", None, Status.RUNTIME_ERROR, "UNBOUND-VARIABLE"),
        ("(defun solve () (/ 1 0))", None, Status.RUNTIME_ERROR, "DIVISION-BY-ZERO"),
        ("(defun solve () (+ 1 2)", None, Status.SYNTAX_ERROR, "END-OF-FILE"),
        ("(defun solve () 1))", None, Status.SYNTAX_ERROR, "SIMPLE-READER-ERROR"),
        ('(defun solve () (error "boom"))', None, Status.RUNTIME_ERROR, "SIMPLE-ERROR"),
    ],
    "hy": [
        ('(defn solve [] (+ 1 "a"))', None, Status.RUNTIME_ERROR, "TypeError"),
        ("(defn solve [] (helper 1))", None, Status.RUNTIME_ERROR, "NameError"),
        ("(defn solve [] (/ 1 0))", None, Status.RUNTIME_ERROR, "ZeroDivisionError"),
        ("(defn solve [] (get [1 2] 5))", None, Status.RUNTIME_ERROR, "IndexError"),
        ('(defn solve [] (get {"a" 1} "b"))', None, Status.RUNTIME_ERROR, "KeyError"),
        ("(defn solve [] (+ 1 2)", None, Status.SYNTAX_ERROR, "PrematureEndOfInput"),
        ("(defn solve [] (setv 1 2))", None, Status.SYNTAX_ERROR, "HySyntaxError"),
        ("(defmacro m [] 1) (defn solve [] (/ 1 0))", None, Status.RUNTIME_ERROR, "ZeroDivisionError"),
    ],
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_each_interpreter_names_its_errors(name: str) -> None:
    language = get_language(name)
    cases = ERRORS[name]
    programs = [Program(code, query) for code, query, _, _ in cases]
    executions = sandbox.run(language, programs, Limits(timeout=2.0), workers=1)
    got = [(e.status, e.error_type) for e in executions]
    assert got == [(status, kind) for _, _, status, kind in cases], [e.error for e in executions]
    assert all(language.error_type(e) == e.error_type for e in executions)


@pytest.mark.parametrize("name, loop", [("prolog", "solve(X) :- solve(X)."), ("lisp", "(defun solve () (loop))"),
                                        ("hy", "(defn solve [] (while True 1))")])
def test_limits_are_named_by_their_status(name: str, loop: str) -> None:
    """However a language stops a runaway program, the hook names it "timeout"."""
    language = get_language(name)
    [execution] = sandbox.run(language, [Program(loop)], Limits(timeout=1.0), workers=1)
    assert execution.status == Status.TIMEOUT and language.error_type(execution) == "timeout"
    answer = {"prolog": "solve(42).", "lisp": "(defun solve () 42)", "hy": "(defn solve [] 42)"}[name]
    [ok] = sandbox.run(language, [Program(answer)], Limits(), workers=1)
    assert ok.status == Status.OK and language.error_type(ok) == ""


def test_from_dict_caps_and_validates_error_type() -> None:
    assert Execution.from_dict({"status": "runtime_error", "error_type": "NameError"}).error_type == "NameError"
    assert Execution.from_dict({"status": "ok"}).error_type == ""
    long = Execution.from_dict({"status": "runtime_error", "error_type": "E" * 10_000})
    assert long.error_type == "E" * MAX_ERROR_TYPE
    assert Execution.from_dict({"status": "runtime_error", "error_type": "Bad\nName\x1b"}).error_type == "BadName"
    for bad in (3, ["TypeError"], {"a": 1}):
        with pytest.raises(ValueError, match="text field"):
            Execution.from_dict({"status": "runtime_error", "error_type": bad})
    round_trip = Execution(Status.SYNTAX_ERROR, error="x", error_type="syntax_error")
    assert Execution.from_dict(round_trip.to_dict()) == round_trip


def test_default_hooks() -> None:
    """A plugin that reports no type gets a conservative guess from the message; warnings a kind."""
    plain = Language()
    guess = {"NameError: name 'x' is not defined": "NameError", "type_error(evaluable, foo/0)": "type_error",
             "error(existence_error(procedure, f/1), _)": "existence_error", "TYPE-ERROR: \"a\" is no NUMBER": "TYPE-ERROR",
             "UNBOUND-VARIABLE X": "", "Unbound variable: x": "", "something went wrong": ""}
    for message, kind in guess.items():
        assert plain.error_type(Execution(Status.RUNTIME_ERROR, error=message)) == kind, message
    assert plain.error_type(Execution(Status.RUNTIME_ERROR, error="NameError: x", error_type="Custom")) == "Custom"
    assert plain.error_type(Execution(Status.NO_ANSWER, error="NameError: x")) == ""
    assert plain.error_type(Execution(Status.MEMORY, error_type="RecursionError")) == "memory"
    assert plain.warning_kind("undefined variable: |PROGRAM-1|::X") == "undefined variable"
    assert plain.warning_kind("Singleton variables: [Y,Y2]") == "singleton variables"
    prolog = get_language("prolog")
    assert prolog.warning_kind("Clauses of 'tmp-1-18':a/1 are not together in the source-file\nEarlier "
                               "definition at program:1") == "clauses of p/n are not together in the source-file"
    scheme_like = Language()  # what the Guile plugin gets: no error_type of its own
    assert scheme_like.error_type(Execution(Status.SYNTAX_ERROR, error="read-error")) == ""


def test_prolog_warnings_reach_the_lint_profile() -> None:
    prolog = get_language("prolog")
    [execution] = sandbox.run(prolog, [Program("solve(X) :- Y = 1, X = 2.\nfoo(A) :- true.")], Limits(), workers=1)
    assert execution.status == Status.OK
    assert [prolog.warning_kind(w) for w in execution.warnings] == ["singleton variables"] * 2


SAMPLES = [  # a hand-made Prolog sample set: lengths 10, 20, 30, 40, 100 tokens
    {"status": "ok", "correct": True, "tokens": 10, "warnings": ["Singleton variables: [Y]"]},
    {"status": "ok", "correct": True, "tokens": 20},
    {"status": "runtime_error", "correct": False, "tokens": 30, "error_type": "existence_error"},
    {"status": "runtime_error", "correct": False, "tokens": 100, "error": "type_error(evaluable, foo/0)",
     "warnings": ["Singleton variables: [A,B]", "Clauses of m:a/1 are not together in the source-file"]},
    {"status": "timeout", "correct": False, "tokens": 40, "error": "inference limit exceeded"},
    {"status": "no_answer", "correct": False, "tokens": 40, "error": "the query failed"},
]


def test_language_figures_on_a_small_sample_set() -> None:
    figures = diagnostics.language_diagnostics(SAMPLES, get_language("prolog"))
    assert figures["n_samples"] == 6
    assert figures["statuses"] == {"no_answer": 1, "ok": 2, "runtime_error": 2, "timeout": 1}
    assert figures["error_types"] == {"existence_error": 1, "type_error": 1, "timeout": 1}
    assert figures["warning_kinds"] == {"singleton variables": 2, "clauses of p/n are not together in the source-file": 1}
    length = figures["length"]
    assert (length["unit"], length["n"], length["min"], length["max"]) == ("tokens", 6, 10, 100)
    assert length["p25"] == pytest.approx(22.5) and length["median"] == pytest.approx(35)
    assert length["p75"] == pytest.approx(40)
    assert length["mean"] == pytest.approx(40) and length["mean_correct"] == pytest.approx(15)
    assert length["mean_incorrect"] == pytest.approx(52.5)
    json.dumps(figures)


def test_lengths_fall_back_to_characters_and_unknown_errors_are_counted() -> None:
    samples = [{"status": "runtime_error", "correct": False, "completion": "abcd", "tokens": None,
                "error": "something odd"}, {"status": "ok", "correct": True, "completion": "ab"}]
    figures = diagnostics.language_diagnostics(samples)
    assert figures["error_types"] == {"unknown": 1}
    assert figures["length"]["unit"] == "characters" and figures["length"]["median"] == 3
    assert diagnostics.language_diagnostics([])["length"] == {"unit": "characters", "n": 0}
    assert diagnostics.quantile([1.0], 0.5) == 1.0
    with pytest.raises(ValueError):
        diagnostics.quantile([], 0.5)


def results_with(diagnosed: bool, accuracy: float, samples: list[dict]) -> dict:
    figures = {"n_problems": len(samples), "n_samples": len(samples), "samples_min": 1, "samples_max": 1,
               "accuracy": accuracy, "hardcoded_rate": 0.0, "format_rate": 1.0, "statuses": {"ok": len(samples)},
               "mean_tokens": None, "mean_seconds": None}
    problems = {"prolog": [{"samples": [s]} for s in samples], "mystery": [{"samples": [s]} for s in samples]}
    results = {"settings": {"mode": "completions", "completions": "x.jsonl"},
               "figures": {"prolog": figures, "mystery": figures}, "problems": problems}
    if diagnosed:
        results["diagnostics"] = diagnostics.diagnostics(problems)
    return results


def test_diagnostics_of_results_and_their_markdown(tmp_path: Path) -> None:
    results = results_with(True, 0.3, SAMPLES)
    assert results["diagnostics"]["prolog"]["error_types"]["type_error"] == 1
    assert results["diagnostics"]["mystery"]["warning_kinds"]["singleton variables"] == 2  # no plugin: defaults
    table = diagnostics.markdown(results["diagnostics"])
    assert "| prolog | existence_error 1 (17%), type_error 1 (17%), timeout 1 (17%) |" in table
    assert "| 35 tokens [22.5–40] (10–100) | 15 / 52.5 |" in table
    out = report.write_outputs(results, tmp_path / "eval")
    assert "Diagnostics" in (out / "results.md").read_text() and (out / "errors.png").read_bytes().startswith(PNG)
    plain = report.write_outputs(results_with(False, 0.3, SAMPLES), tmp_path / "plain")
    assert "Diagnostics" not in (plain / "results.md").read_text() and not (plain / "errors.png").exists()


def test_error_type_plot_is_written(tmp_path: Path) -> None:
    figures = {"prolog": diagnostics.language_diagnostics(SAMPLES, get_language("prolog")),
               "hy": diagnostics.language_diagnostics([{"status": "ok", "correct": True, "tokens": 3}])}
    path = plots.error_type_plot(figures, tmp_path / "plots" / "errors.png")
    assert path.read_bytes().startswith(PNG)
    assert plots.error_type_plot({}, tmp_path / "none.png").read_bytes().startswith(PNG)


def write(directory: Path, results: dict) -> Path:
    directory.mkdir()
    (directory / "results.json").write_text(json.dumps(results))
    return directory


def test_compare_with_and_without_diagnostics(tmp_path: Path) -> None:
    better = [dict(s, tokens=s["tokens"] // 2) for s in SAMPLES[:2]] + \
             [{"status": "ok", "correct": True, "tokens": 12}] * 4
    a = write(tmp_path / "a", results_with(True, 0.3, SAMPLES))
    b = write(tmp_path / "b", results_with(True, 0.9, better))
    rows, _, labels = compare.compare(a, b)
    by = {(r["language"], r["figure"]): r for r in rows}
    assert by["prolog", "accuracy"]["diff_points"] == pytest.approx(60.0)
    error = by["prolog", "error existence_error"]
    assert (error["a"], error["b"], error["diff_points"]) == (pytest.approx(1 / 6), None, None)
    assert by["prolog", "length median"]["diff"] == pytest.approx(12 - 35)
    assert by["prolog", "warning singleton variables"]["b"] == pytest.approx(1 / 6)
    table = compare.compare_table(rows, labels)
    assert "| prolog | error type_error | 16.7% | – | – |" in table
    assert "| prolog | length median | 35.0 tokens | 12.0 tokens | -23.0 |" in table
    c = write(tmp_path / "c", results_with(False, 0.3, SAMPLES))
    plain, _, labels = compare.compare(c, a)
    assert [r for r in plain if r.get("unit")] and compare.compare_diagnostics(results_with(False, 0, []),
                                                                                results_with(False, 0, [])) == []
    only_a = {(r["language"], r["figure"]): r for r in plain}
    assert only_a["prolog", "error timeout"]["a"] is None and "error timeout" in compare.compare_table(plain, labels)
    assert compare.main([str(c), str(write(tmp_path / "d", results_with(False, 0.5, SAMPLES)))]) == 0


def test_grades_rows_and_training_metrics_carry_the_error_type(tmp_path: Path) -> None:
    grader = Grader(check_hardcoding=False, workers=1)
    completions = ["<code>\nsolve(X) :- helper(X).\n</code>", "<code>\n(defn solve [] (/ 1 0))\n</code>",
                   "<code>\nsolve(X) :- X is 6*7.\n</code>"]
    grades = grader.grade(completions, ["42", "1", "42"], ["prolog", "hy", "prolog"])
    assert [g.error_type for g in grades] == ["existence_error", "ZeroDivisionError", ""]
    assert grades[0].to_dict()["error_type"] == "existence_error"
    metrics = diagnostic_metrics(grades, [10, 20, 30])
    assert metrics == {"length/prolog": 20.0, "length/hy": 20.0, "errors/prolog/existence_error": 0.5,
                       "errors/hy/ZeroDivisionError": 1.0}
    logged: list[tuple[str, float]] = []
    log = CompletionLog(tmp_path)
    log.record(grades, completions, {"log_metric": lambda n, v: logged.append((n, v)),
                                     "completion_ids": [[1] * 4, [1] * 5, [1] * 6]})
    fixed = [Grade("prolog", "ok", "42", "42", True, False, True, {}, 1.0)]
    log.record(fixed, ["x"], {"log_metric": lambda n, v: logged.append((n, v))})
    log.close()
    assert ("length/prolog", 5.0) in logged and ("errors/hy/ZeroDivisionError", 1.0) in logged
    assert logged[-2:] == [("errors/prolog/existence_error", 0.0), ("length/prolog", 1.0)]  # 0 once seen; no hy
    rows = [json.loads(line) for line in (tmp_path / "completions.jsonl").read_text().splitlines()]
    assert [r["error_type"] for r in rows] == ["existence_error", "ZeroDivisionError", "", ""]


def test_grade_cli_rows_carry_the_error_type() -> None:
    import io

    from lowres_rl.grade import grade_stream

    lines = [{"code": "(defun solve () (helper 1))", "answer": "1", "lang": "lisp"},
             {"code": "(defun solve () 1)", "answer": "1", "lang": "lisp"}]
    sink = io.StringIO()
    source = io.BytesIO("".join(json.dumps(line) + "\n" for line in lines).encode())
    grade_stream(Grader(check_hardcoding=False, workers=1), source, sink, "lisp")
    rows = [json.loads(line) for line in sink.getvalue().splitlines()]
    assert [(r["status"], r["error_type"]) for r in rows] == [("runtime_error", "UNDEFINED-FUNCTION"), ("ok", "")]
