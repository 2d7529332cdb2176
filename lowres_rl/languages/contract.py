"""The contract as plain data: a Program goes in, an Execution comes out, within Limits.

These types are the ground floor of lowres-rl: the languages, the sandbox, the grader and the
trainer all speak them, and this module imports nothing of the project.
"""
from __future__ import annotations

import enum
import math
import numbers
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol


class Status(str, enum.Enum):
    """How a program's execution ended. Values are plain strings so they serialise as themselves."""

    OK = "ok"                        # the query produced a value (numeric or not)
    NO_PROGRAM = "no_program"        # nothing to run: the response held no code
    SYNTAX_ERROR = "syntax_error"    # code or query could not be read / compiled
    RUNTIME_ERROR = "runtime_error"  # an error was raised while loading or querying
    TIMEOUT = "timeout"              # the wall-clock (or inference) limit passed
    MEMORY = "memory"                # heap or stack exhausted
    NO_ANSWER = "no_answer"          # the query failed or bound nothing
    CRASHED = "crashed"              # the interpreter process died or broke the protocol

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Program:
    """Code plus a query. `query=None` means the language's default query; `error` says why a
    response held no program (then `code` is empty)."""

    code: str
    query: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class Limits:
    """Per-program limits. Wall time is enforced by killing the worker; the rest by the OS
    (address space, file size, processes) or by the interpreter (inferences, steps, stacks).
    Work budgets (inferences, steps) stop the common runaway, an endless loop, within
    milliseconds and without a kill; the wall clock is the backstop for what they cannot see."""

    timeout: float = 1.0              # wall seconds for loading the code plus the query (GSM8K programs take ms)
    memory_mb: int = 1024             # interpreter heap (SBCL dynamic space, Prolog stacks)
    inferences: int = 2_000_000       # Prolog inference limit: GSM8K programs need hundreds; loops stop in ~30 ms
    steps: int = 200_000              # Lisp and Hy: loop iterations plus function calls; GSM8K programs take
                                      # tens; loops stop in ~0.1 s (Lisp) and ~0.02 s (Hy) without a kill
    output_bytes: int = 16_384        # stdout/stderr kept per program (the rest is dropped)

    def __post_init__(self) -> None:
        for name in ("timeout", "memory_mb", "inferences", "steps", "output_bytes"):
            if not getattr(self, name) > 0:
                raise ValueError(f"Limits.{name} must be positive, got {getattr(self, name)!r}")


@dataclass
class Execution:
    """The outcome of running one program. `answer` is canonical text (`18`, `3.5`) when the
    status is ok; `error` is a one-paragraph reason otherwise, and `error_type` the name of what
    the interpreter raised (a Prolog error term's functor such as `existence_error`, a Lisp
    condition type such as `UNDEFINED-FUNCTION`, a Python exception class such as `NameError`),
    empty when it raised nothing or did not say. Limits a language enforces itself may leave it
    empty: `Language.error_type` names those by their status ("timeout", "memory")."""

    status: Status
    answer: str | None = None
    stdout: str = ""
    stderr: str = ""
    error: str = ""
    error_type: str = ""
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "status": self.status.value}

    @classmethod
    def from_dict(cls, data: dict[str, Any], limits: "Limits | None" = None) -> "Execution":
        """Rebuild from untrusted JSON (a worker's reply): unknown keys are dropped, every field is
        capped (stdout and stderr at `limits.output_bytes`), and a bad type or value raises
        ValueError. Whatever the worker wrote, the Execution kept in the parent is small."""
        output = (limits or Limits()).output_bytes
        status = Status(data["status"])
        answer = data.get("answer")
        if answer is not None and (not isinstance(answer, str) or len(answer) > MAX_ANSWER):
            raise ValueError("the answer is not a short string")
        warnings = data.get("warnings") or []
        if not isinstance(warnings, list):
            raise ValueError("warnings is not a list")
        seconds = data.get("seconds") or 0.0
        if not isinstance(seconds, (int, float)) or not math.isfinite(seconds):
            raise ValueError("seconds is not a finite number")
        return cls(
            status=status,
            answer=answer,
            stdout=_text(data.get("stdout"), output),
            stderr=_text(data.get("stderr"), output),
            error=_text(data.get("error"), MAX_ERROR),
            error_type=_name(data.get("error_type")),
            warnings=[_text(w, MAX_WARNING) for w in warnings[:MAX_WARNINGS]],
            seconds=float(seconds),
        )


MAX_ANSWER = 10_000     # characters: far beyond any GSM8K answer, small enough to keep
MAX_ERROR = 10_000      # characters of an error message kept
MAX_ERROR_TYPE = 100    # characters of an error type kept: a class or functor name, never a message
MAX_WARNING = 2_000     # characters per warning, and warnings per program, kept
MAX_WARNINGS = 50


def _text(value: Any, limit: int) -> str:
    """A text field of a reply, cut at `limit`; anything but a string (or nothing) is refused."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"a text field holds {type(value).__name__}")
    return value[:limit]


def _name(value: Any) -> str:
    """An error type of a reply: a string (anything else is refused), its unprintable characters
    (newlines: a program may name its own exception class) dropped, cut at MAX_ERROR_TYPE."""
    return "".join(c for c in _text(value, MAX_ERROR_TYPE * 4) if c.isprintable())[:MAX_ERROR_TYPE]


class Interpreter(Protocol):
    """Runs programs one at a time inside a sandbox worker process (never in the trainer)."""

    def execute(self, code: str, query: str, limits: Limits) -> Execution: ...


def canonical_number(value: Any) -> str | None:
    """Canonical text of a numeric value (`18`, `3.5`, rationals as floats); None if not numeric.
    An integer of more than MAX_ANSWER digits raises ValueError (it is never converted: Python
    refuses past 4300 digits, and no answer is that long)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    if isinstance(value, numbers.Integral):
        if int(value).bit_length() > MAX_ANSWER * 3.33:  # log2(10) bits per digit
            raise ValueError(f"the answer has more than {MAX_ANSWER} digits")
        return str(int(value))
    if isinstance(value, numbers.Rational) and value.denominator == 1:
        return str(int(value.numerator))
    number = float(value)
    return repr(number) if math.isfinite(number) else None
