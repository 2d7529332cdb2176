"""Scheme through GNU Guile 3.0: an example third-party language plugin for lowres-rl.

    pip install -e examples/guile-plugin        # registers `scheme` (entry point lowres_rl.languages)
    python -m lowres_rl.check scheme            # the conformance kit

The answer is the value of the query expression (`(total)`); without a query, `(solve)`. Inside a
sandbox worker, `GuileInterpreter` keeps one Guile process running harness.scm, a fork server:
each program runs in its own forked child in a fresh module, so nothing a program defines or
mutates reaches the next one and `(exit)` ends only that child; the child is killed at the time
limit. Starting, restarting, nonces and deadlines are lowres_rl.languages.pipe's.

Not protected against here (the OS layer's job, see lowres_rl.sandbox.isolation): processes a program
starts itself (`system`, `primitive-fork`) outlive it until the worker goes, within RLIMIT_CPU.
"""
from __future__ import annotations

from pathlib import Path

from lowres_rl.languages import Comments, Execution, Language, Limits, Status
from lowres_rl.languages.pipe import PipeInterpreter, find_program, frame, number_text

HERE = Path(__file__).resolve().parent


class Scheme(Language):
    name = "scheme"
    fence = ("scheme", "scm", "guile")
    default_query = "(solve)"
    extension = ".scm"
    requires = {"guile": "apt-get install guile-3.0"}
    comments = Comments(line=(";",), block=(("#|", "|#"),))

    def interpreter(self, limits: Limits) -> GuileInterpreter:
        return GuileInterpreter()

    def prompt_file(self) -> Path:
        return HERE / "prompt.md"


class GuileInterpreter(PipeInterpreter):
    died = "the Guile process died"

    def __init__(self) -> None:
        # -q: no ~/.guile; no auto-compilation: nothing written to the (fresh) HOME.
        guile = find_program("guile", "apt-get install guile-3.0")
        super().__init__([guile, "--no-auto-compile", "-q", "-s", str(HERE / "harness.scm")])

    def request(self, nonce: str, code: str, query: str, limits: Limits) -> bytes:
        numbers = (f"{limits.timeout:.3f}", limits.memory_mb, limits.output_bytes)
        return frame(nonce, numbers, (code, query))

    def reply(self, nonce: str, limits: Limits, deadline: float) -> Execution | None:
        fields = self.read_fields(nonce, 5, deadline)
        if fields is None:
            return None
        status, kind, answer, output, error = fields
        answer = (number_text(answer) if kind == "number" else answer) if status == "ok" else None
        return Execution(Status(status), answer=answer, stdout=output, error=error)
