"""The conformance kit (lowres_rl.testing.kit, python -m lowres_rl.check) and the plugin path end to end:
the kit passes on every language we ship (and the example Scheme plugin), fails on deliberately
broken languages naming the broken check, and a plugin that cannot be imported is reported by name
without stopping the others.

    python -m pytest tests/test_plugin_kit.py -q
"""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lowres_rl import languages
from lowres_rl.languages import Execution, Limits, PluginError, Program, Status, available_languages, get_language
from lowres_rl.languages.pipe import PipeInterpreter
from lowres_rl.testing.kit import BUILTIN_SAMPLES, CHECKS, SamplesError, check_language, find_samples
from lowres_rl import sandbox

FAST = Limits(timeout=1.0)
TESTS = Path(__file__).resolve().parent
SCHEME_INSTALLED = importlib.util.find_spec("lowres_rl_scheme") is not None
NOT_INSTALLED = "the example plugin is not installed: pip install -e examples/guile-plugin"


@pytest.mark.parametrize("lang", [
    "prolog", "lisp", "hy",
    pytest.param("scheme", marks=pytest.mark.skipif(not SCHEME_INSTALLED, reason=NOT_INSTALLED)),
])
def test_kit_passes_on_shipped_languages(lang: str) -> None:
    report = check_language(lang, limits=FAST)  # samples: BUILTIN_SAMPLES, or scheme's entry point
    assert report.passed, str(report)
    assert [r.name for r in report.results] == list(CHECKS)
    skipped = {r.name for r in report.results if r.outcome == "skip"}
    assert skipped == ({"no_answer"} if find_samples(lang).no_answer is None else set())


def test_kit_fails_a_language_that_answers_ok_to_everything() -> None:
    from broken_plugin import SAMPLES, AlwaysOk

    report = check_language(AlwaysOk(), SAMPLES, FAST)
    assert not report.passed
    failed = {r.name for r in report.failures}
    assert {"syntax_error", "runtime_error", "timeout", "exit_call", "isolation", "batch_order"} <= failed
    assert report["correct"].passed and report["parse"].passed  # it does answer 42 to the 42 program
    text = str(report)
    assert "FAIL  syntax_error" in text and "expected syntax_error, got ok" in text
    assert "always-ok DOES NOT conform" in text.splitlines()[-1]


def test_kit_names_the_one_broken_check_of_a_leaky_language() -> None:
    """Hy with one namespace shared by all programs: only isolation fails, and says why."""
    from broken_plugin import SharedModule

    report = check_language(SharedModule(), BUILTIN_SAMPLES["hy"], FAST)
    assert [r.name for r in report.failures] == ["isolation"], str(report)
    assert "leaked" in report["isolation"].reason


def test_samples_are_found_by_name_or_explained() -> None:
    assert find_samples("prolog") is BUILTIN_SAMPLES["prolog"]
    with pytest.raises(SamplesError, match=r"no conformance samples for language 'nosuch'.*lowres_rl\.samples"):
        find_samples("nosuch")
    with pytest.raises(TypeError, match="correct"):
        type(BUILTIN_SAMPLES["hy"])(correct=("code", None), syntax_error="x", runtime_error="x",  # type: ignore[arg-type]
                                    infinite_loop="x", exit_call="x", define="x", use_definition="x")


# -- a broken plugin next to the good ones ---------------------------------------------------------

ENTRY_POINTS = """\
[lowres_rl.languages]
brokenlang = broken_plugin.needs_missing:Broken
always-ok = broken_plugin:AlwaysOk

[lowres_rl.samples]
always-ok = broken_plugin:SAMPLES
"""


@pytest.fixture
def broken_plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A distribution (dist-info only) registering a plugin that fails to import, on sys.path."""
    dist = tmp_path / "broken_lowres_plugins-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-lowres-plugins\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(ENTRY_POINTS)
    monkeypatch.syspath_prepend(str(tmp_path))
    languages._entry_points.cache_clear()
    get_language.cache_clear()
    yield tmp_path
    languages._entry_points.cache_clear()  # the registry is read again once sys.path is restored
    get_language.cache_clear()


def _python(args: list[str], site: Path, stdin: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(TESTS), *sys.path])}
    return subprocess.run([sys.executable, "-m", *args], input=stdin, capture_output=True, text=True,
                          env=env, timeout=120)


def test_broken_plugin_is_reported_with_its_cause_and_the_builtins_still_work(broken_plugins: Path) -> None:
    assert {"brokenlang", "always-ok", "prolog", "lisp", "hy"} <= set(available_languages())
    with pytest.raises(PluginError) as caught:
        get_language("brokenlang")
    message = str(caught.value)
    assert "broken_plugin.needs_missing:Broken" in message
    assert "ModuleNotFoundError" in message and "lowres_rl_dependency_that_is_not_installed" in message
    for lang, code in [("prolog", "solve(X) :- X is 6*7."), ("lisp", "(defun solve () (* 6 7))"),
                       ("hy", "(defn solve [] (* 6 7))")]:
        [result] = sandbox.run(get_language(lang), [Program(code)], FAST, workers=1)
        assert (result.status, result.answer) == (Status.OK, "42"), (lang, result)


def test_broken_plugin_error_names_the_registered_plugin(broken_plugins: Path) -> None:
    with pytest.raises(PluginError, match="brokenlang"):
        get_language("brokenlang")


def test_check_cli_reports_broken_plugins_and_failing_checks(broken_plugins: Path) -> None:
    broken = _python(["lowres_rl.check", "brokenlang"], broken_plugins)
    assert broken.returncode == 1
    assert "'brokenlang'" in broken.stderr and "lowres_rl_dependency_that_is_not_installed" in broken.stderr
    failing = _python(["lowres_rl.check", "always-ok", "--timeout", "1", "--no-prompt"], broken_plugins)
    assert failing.returncode == 1, failing.stderr
    assert "FAIL  syntax_error" in failing.stdout and "PASS  correct" in failing.stdout
    assert "SKIP  prompt" in failing.stdout
    unknown = _python(["lowres_rl.check", "nosuch"], broken_plugins)
    assert unknown.returncode == 2 and "unknown language 'nosuch'" in unknown.stderr


# -- the Scheme plugin from the shell ---------------------------------------------------------------

@pytest.mark.skipif(not SCHEME_INSTALLED, reason=NOT_INSTALLED)
def test_run_cli_runs_a_scheme_program() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-m", "lowres_rl.run", "--lang", "scheme"],
                          input="(define (solve)\n  (let* ((adults 2) (children 3))\n    (+ (* adults 12) (* children 6))))\n",
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert (result["status"], result["answer"]) == ("ok", "42")


@pytest.mark.skipif(not SCHEME_INSTALLED, reason=NOT_INSTALLED)
def test_scheme_programs_are_isolated_even_from_set_on_builtins() -> None:
    """Guile lets a program `set!` a builtin; each program runs in its own forked child, so the
    next one still has the real one. Exits, including the raw primitive, end only that child."""
    scheme = get_language("scheme")
    results = sandbox.run(scheme, [
        Program("(set! length (lambda (xs) 99)) (define (solve) (length '(1 2)))"),
        Program("(define (solve) (length '(1 2)))"),
        Program("(define (solve) ((@ (guile) primitive-_exit) 3))"),
        Program("(define (solve) (/ 7 2))"),
        Program("(define (solve) (display \"hi\") (exact->inexact 1/4))"),
    ], FAST, workers=1)
    assert [(r.status, r.answer) for r in results] == [
        (Status.OK, "99"), (Status.OK, "2"), (Status.RUNTIME_ERROR, None), (Status.OK, "3.5"),
        (Status.OK, "0.25")]
    assert "exit code 3" in results[2].error
    assert results[4].stdout == "hi"


@pytest.mark.skipif(not SCHEME_INSTALLED, reason=NOT_INSTALLED)
def test_pipe_interpreter_names_its_process_and_restarts_it_when_gone() -> None:
    """lowres_rl.languages.pipe, through the example plugin: the Guile server is the worker's helper
    (not a leftover), and a server that died between programs is replaced for the next one."""
    import signal

    from lowres_rl_scheme import GuileInterpreter

    guile = GuileInterpreter()
    try:
        [pid] = guile.helper_pids()
        assert guile.execute("(define (solve) (* 6 7))", "(solve)", FAST).answer == "42"
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        again = guile.execute("(define (solve) (/ 7 2))", "(solve)", FAST)
        assert (again.status, again.answer) == (Status.OK, "3.5")
        assert guile.helper_pids() and guile.helper_pids() != [pid]
    finally:
        guile.stop()
    assert guile.helper_pids() == []


class _Flooding(PipeInterpreter):
    """A process that answers each request with `script` (Python, given the nonce as `n`): a
    hostile or broken interpreter, to test the base's reading, not any language."""

    def __init__(self, script: str) -> None:
        loop = f"import sys\nfor line in sys.stdin:\n    n = line.strip()\n    {script}\n    sys.stdout.flush()"
        super().__init__([sys.executable, "-c", loop])

    def request(self, nonce: str, code: str, query: str, limits: Limits) -> bytes:
        return nonce.encode() + b"\n"

    def reply(self, nonce: str, limits: Limits, deadline: float) -> Execution | None:
        fields = self.read_fields(nonce, 1, deadline)
        return fields and Execution(Status.OK, answer=fields[0])


@pytest.mark.parametrize("script", [
    "sys.stdout.write('x' * (64 << 20))",          # output without end: no line, no reply
    "sys.stdout.write(n + ' 99999999999\\n')",     # a frame that claims 100 GB
], ids=["endless-line", "huge-frame"])
def test_pipe_interpreter_refuses_a_reply_too_big_to_be_one(script: str) -> None:
    """What the pipe base holds of a reply is capped like the pool's frames (1 MiB + 8 x
    output_bytes): past it the process is broken, `crashed` at once and restarted; the worker
    never buffers what an interpreter (or a program writing to its pipe) pours out."""
    interpreter = _Flooding(script)
    try:
        start = time.monotonic()
        result = interpreter.execute("", "", Limits(timeout=20.0))
        assert result.status == Status.CRASHED and "bytes" in result.error, result
        assert time.monotonic() - start < 10  # decided by the size, not by the 20 s deadline
        assert len(interpreter._pending) <= (1 << 20) + 8 * Limits().output_bytes + (1 << 16)
    finally:
        interpreter.stop()


def test_adding_a_language_quotes_the_plugin_as_it_is() -> None:
    """Every code block of docs/adding-a-language.md that names a file as its first line is a
    verbatim excerpt of that file: the guide cannot drift from the worked example."""
    root = TESTS.parent
    guide = (root / "docs" / "adding-a-language.md").read_text(encoding="utf-8")
    blocks = [b.split("\n", 1) for b in guide.split("```python\n")[1:]]
    quoted = [(first[2:], body.split("```", 1)[0]) for first, body in blocks if first.startswith("# examples/")]
    assert len(quoted) >= 3, quoted
    for path, body in quoted:
        assert body in (root / path).read_text(encoding="utf-8"), f"{path} no longer holds:\n{body}"
