"""The conformance kit: check a language plugin against the contract in one call.

    from lowres_rl.testing.kit import check_language
    report = check_language("scheme")          # samples found by name (see find_samples)
    print(report)                              # one PASS/FAIL/SKIP line per check, with the reason
    assert report.passed, report

    python -m lowres_rl.check scheme           # the same from the shell; exit 0 when all pass

A language's author supplies `LanguageSamples`: a handful of tiny programs (a correct one with its
answer, a syntax error, a runtime error, an endless loop, an exit call, a definition and a use of
it). The kit extracts them from responses (lowres_rl.grading.response), runs them in real sandbox
workers (lowres_rl.sandbox.run) and checks what every language must do (CHECKS, in order):

    declaration    name, fences and default query are set; required programs are on PATH
    parse          a well-formed <reasoning>/<code>/<query> response yields the code and query
    correct        the correct program runs to `ok` with the expected answer
    syntax_error   the syntax error is reported as `syntax_error`
    runtime_error  the runtime error is reported as `runtime_error`
    no_answer      the program without an answer is `no_answer` (skipped when the sample is None)
    timeout        the endless loop is `timeout` within the limit + 1 s, and the next program works
    exit_call      the language's exit call is not `ok`, and the next program works
    isolation      a definition made by one program is invisible to the next on the same worker
    batch_order    a mixed batch comes back one Execution per program, in input order
    prompt         the prompt file loads and each worked example runs to the answer it reasons to

The samples are lowres_rl.testing.samples' (BUILTIN_SAMPLES, or a plugin's entry point), the
results lowres_rl.testing.report's. The kit runs a fresh instance of the language with its own
worker pool and closes it afterwards.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from lowres_rl.languages import (
    Execution, Language, Limits, Program, Status, get_language, language_spec,
)
import lowres_rl.sandbox as sandbox
from lowres_rl.grading.formats import extract_program
from lowres_rl.testing.report import CheckResult, Report, describe, first_line, reasoned_answer, same_answer
from lowres_rl.testing.samples import BUILTIN_SAMPLES, SAMPLES_GROUP, LanguageSamples, SamplesError, find_samples

__all__ = ["BUILTIN_SAMPLES", "CHECKS", "SAMPLES_GROUP", "CheckResult", "LanguageSamples", "Report", "SamplesError",
           "check_language", "find_samples", "reasoned_answer", "same_answer"]

SLACK = 1.0  # seconds past the limit an endless loop may take to come back as `timeout`

CHECKS = ("declaration", "parse", "correct", "syntax_error", "runtime_error", "no_answer", "timeout",
          "exit_call", "isolation", "batch_order", "prompt")


class _Failed(Exception):
    """A check found the language at fault; the message is the reason."""


class _Skipped(Exception):
    """A check does not apply; the message is the reason."""


# -- the checks ----------------------------------------------------------------------------------

@dataclass
class _Kit:
    language: Language
    samples: LanguageSamples
    limits: Limits
    workers: int

    def run(self, programs: list[Program], workers: int = 1) -> list[Execution]:
        results = sandbox.run(self.language, programs, self.limits, workers=workers)
        if len(results) != len(programs) or not all(isinstance(r, Execution) for r in results):
            raise _Failed(f"run() returned {len(results)} results for {len(programs)} programs "
                          f"(or something other than Execution objects)")
        return results

    def one(self, code: str, query: str | None = None) -> Execution:
        return self.run([Program(code, query)])[0]

    def expect(self, what: str, execution: Execution, statuses: set[Status], answer: str | None = None) -> None:
        """Fail unless `execution` has one of `statuses` (and `answer`, when given)."""
        if execution.status not in statuses or (answer is not None and not same_answer(execution.answer, answer)):
            wanted = " or ".join(sorted(s.value for s in statuses)) + (f" with answer {answer!r}" if answer else "")
            raise _Failed(f"{what}: expected {wanted}, got {describe(execution)}")
        if execution.status is not Status.OK and execution.answer is not None:
            raise _Failed(f"{what}: status {execution.status.value} but an answer {execution.answer!r} (must be None)")

    def next_program_works(self, after: str) -> None:
        code, query, answer = self.samples.correct
        self.expect(f"the correct program after {after}", self.one(code, query), {Status.OK}, answer)

    # each check returns the reason it passed, or raises _Failed / _Skipped

    def check_declaration(self) -> str:
        lang = self.language
        problems = [f"{attr} is not set" for attr in ("name", "fence", "default_query") if not getattr(lang, attr, None)]
        if not problems and not (isinstance(lang.fence, tuple) and all(isinstance(f, str) for f in lang.fence)):
            problems.append(f"fence must be a tuple of strings, got {lang.fence!r}")
        problems += lang.missing()
        if problems:
            raise _Failed("; ".join(problems))
        needs = ", ".join(lang.requires) or "nothing"
        return f"fences {', '.join(lang.fence)}; default query {lang.default_query}; needs {needs} (found)"

    def check_parse(self) -> str:
        from lowres_rl.grading.formats import is_strict

        code, query, _ = self.samples.correct
        query = query or self.language.default_query
        norm = self.language.normalize_query
        for fence in ("", self.language.fence[0]):
            body = f"```{fence}\n{code}\n```" if fence else code
            text = (f"<reasoning>\nThe price times the count, plus six.\n</reasoning>\n<code>\n{body}\n</code>\n"
                    f"<query>\n{query}\n</query>")
            if not is_strict(text):
                raise _Failed("the kit's own response is not well-formed (bug in lowres_rl.grading.response?)")
            program = extract_program(text, self.language)
            where = f"fenced ```{fence}" if fence else "plain"
            if program.error:
                raise _Failed(f"{where} response: parse() gave no program: {program.error}")
            if program.code.strip() != code.strip():
                raise _Failed(f"{where} response: parse() gave code {program.code!r}, expected {code.strip()!r}")
            if norm(program.query or "") != norm(query):
                raise _Failed(f"{where} response: parse() gave query {program.query!r}, expected {query!r}")
        return "code and query extracted from a tagged response, plain and fenced"

    def check_correct(self) -> str:
        code, query, answer = self.samples.correct
        execution = self.one(code, query)
        self.expect("the correct program", execution, {Status.OK}, answer)
        return f"ok, answer {execution.answer} (expected {answer})"

    def _status_check(self, sample: str | None, status: Status) -> str:
        if sample is None:
            raise _Skipped(f"no sample (samples.{status.value} is None: the language has no such status)")
        execution = self.one(sample)
        self.expect(f"the {status.value} sample", execution, {status})
        return f"{status.value}: {first_line(execution.error) or '(no error text)'}"

    def check_syntax_error(self) -> str:
        return self._status_check(self.samples.syntax_error, Status.SYNTAX_ERROR)

    def check_runtime_error(self) -> str:
        return self._status_check(self.samples.runtime_error, Status.RUNTIME_ERROR)

    def check_no_answer(self) -> str:
        return self._status_check(self.samples.no_answer, Status.NO_ANSWER)

    def check_timeout(self) -> str:
        self.next_program_works("start-up")  # a warm worker: the time below is the loop's
        started = time.monotonic()
        execution = self.one(self.samples.infinite_loop)
        elapsed = time.monotonic() - started
        self.expect("the endless loop", execution, {Status.TIMEOUT})
        bound = self.limits.timeout + SLACK
        if elapsed > bound:
            raise _Failed(f"the endless loop came back as timeout after {elapsed:.2f}s, over the "
                          f"{self.limits.timeout:g}s limit + {SLACK:g}s")
        self.next_program_works("the endless loop")
        return f"timeout after {elapsed:.2f}s (limit {self.limits.timeout:g}s + {SLACK:g}s); next program ok"

    def check_exit_call(self) -> str:
        execution = self.one(self.samples.exit_call)
        if execution.status in (Status.OK, Status.NO_PROGRAM):
            raise _Failed(f"the exit call: expected a status other than ok, got {describe(execution)}")
        self.next_program_works("the exit call")
        return f"{execution.status.value} ({first_line(execution.error) or 'no error text'}); next program ok"

    def check_isolation(self) -> str:
        s = self.samples
        self.expect("the define sample on its own", self.one(s.define), {Status.OK})
        after = self.one(s.use_definition)
        if after.status is Status.OK:
            raise _Failed(f"a definition leaked: use_definition, run after define on the same worker, "
                          f"gave {describe(after)}; it must not see the earlier program's definition")
        self.expect("define + use_definition as one program (control)",
                    self.one(f"{s.define}\n{s.use_definition}"), {Status.OK})
        return f"after define, use_definition gives {after.status.value}: {first_line(after.error)}"

    def check_batch_order(self) -> str:
        s = self.samples
        code, query, answer = s.correct
        kinds: list[tuple[Program, set[Status], str | None]] = [
            (Program(code, query), {Status.OK}, answer),
            (Program(s.infinite_loop), {Status.TIMEOUT}, None),  # finishes last, sits early
            (Program(s.syntax_error), {Status.SYNTAX_ERROR}, None),
            (Program("", error="no code block"), {Status.NO_PROGRAM}, None),
            (Program(s.runtime_error), {Status.RUNTIME_ERROR}, None),
            (Program(code, query), {Status.OK}, answer),
            (Program(s.exit_call), set(Status) - {Status.OK, Status.NO_PROGRAM}, None),
            (Program(s.runtime_error), {Status.RUNTIME_ERROR}, None),
            (Program(s.syntax_error), {Status.SYNTAX_ERROR}, None),
            (Program(code, query), {Status.OK}, answer),
        ]
        if s.no_answer is not None:
            kinds.insert(4, (Program(s.no_answer), {Status.NO_ANSWER}, None))
        results = self.run([p for p, _, _ in kinds], workers=self.workers)
        wrong = []
        for i, ((_, statuses, expected), got) in enumerate(zip(kinds, results)):
            if got.status not in statuses or (expected is not None and not same_answer(got.answer, expected)):
                wanted = "/".join(sorted(st.value for st in statuses)) if len(statuses) < 3 else "not ok"
                wrong.append(f"#{i} expected {wanted}, got {got.status.value}")
        if wrong:
            raise _Failed(f"{len(wrong)} of {len(kinds)} results out of place: {'; '.join(wrong)}")
        return f"{len(kinds)} mixed programs on {self.workers} workers, each result in its place"

    def check_prompt(self) -> str:
        from lowres_rl.data.prompt import build_messages, load_prompt, render_response

        try:
            path = self.language.prompt_file()
            spec = load_prompt(path)
            build_messages("How many?", self.language, shots=len(spec.examples))
        except (OSError, ValueError) as exc:
            raise _Failed(f"the prompt file does not load: {exc}") from None
        programs = [extract_program(render_response(example), self.language) for example in spec.examples]
        results = self.run(programs, workers=self.workers)
        wrong = []
        for number, (example, got) in enumerate(zip(spec.examples, results), start=1):
            expected = reasoned_answer(example.reasoning)
            if got.status is not Status.OK or (expected is not None and not same_answer(got.answer, expected)):
                wrong.append(f"example {number}: expected ok{f' with answer {expected}' if expected else ''}, "
                             f"got {describe(got)}")
        if wrong:
            raise _Failed(f"{path.name}: {'; '.join(wrong)}")
        return f"{path.name}: '{spec.title}', {len(spec.examples)} worked examples, each runs to its answer"


def check_language(language: Language | str, samples: LanguageSamples | None = None,
                   limits: Limits | None = None, workers: int = 2, prompt: bool = True) -> Report:
    """Run every check (CHECKS) against `language` (an instance, or a registered name) with
    `samples` (default: find_samples(name)), `limits` (default: Limits()) and `workers` sandbox
    workers for the batch checks (the others use one, so that consecutive programs share it).
    Never raises for a misbehaving language: each problem is a failed check naming the reason.
    A name that does not load raises UnknownLanguageError or PluginError, missing samples
    SamplesError. `prompt=False` skips the prompt check."""
    if isinstance(language, str):
        language = get_language(language)
    if samples is None:
        samples = find_samples(language.name)
    limits = limits or Limits()
    fresh = type(language)()  # its own worker pool, closed below
    kit = _Kit(fresh, samples, limits, workers)
    report = Report(fresh.name, language_spec(fresh), limits, workers)
    try:
        for name in CHECKS:
            check: Callable[[], str] = getattr(kit, f"check_{name}")
            if name == "prompt" and not prompt:
                report.results.append(CheckResult(name, "skip", "skipped (prompt=False)"))
                continue
            started = time.monotonic()
            try:
                outcome, reason = "pass", check()
            except _Failed as exc:
                outcome, reason = "fail", str(exc)
            except _Skipped as exc:
                outcome, reason = "skip", str(exc)
            except Exception as exc:  # a broken plugin may raise anywhere: that is a failure too
                outcome, reason = "fail", f"raised {type(exc).__name__}: {exc}"
            report.results.append(CheckResult(name, outcome, reason, time.monotonic() - started))
    finally:
        sandbox.close(fresh)
    return report
