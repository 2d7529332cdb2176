"""The plugin contract: a language turns model text into a Program and runs Programs.

    from lowres_rl.languages import get_language
    prolog = get_language("prolog")
    [execution] = prolog.run([prolog.parse(completion)])

A language subclasses `Language`, names itself, its code fences and its default query, and supplies
an `Interpreter` built *inside a sandbox worker* (see lowres_rl.sandbox): the parent process never
runs model-written code. `parse` and `run` have working defaults; most plugins override neither.
"""
from __future__ import annotations

import enum
import math
import shutil
import numbers
import threading
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar, Protocol, Sequence


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
    status is ok; `error` is a one-paragraph reason otherwise."""

    status: Status
    answer: str | None = None
    stdout: str = ""
    stderr: str = ""
    error: str = ""
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
            warnings=[_text(w, MAX_WARNING) for w in warnings[:MAX_WARNINGS]],
            seconds=float(seconds),
        )


MAX_ANSWER = 10_000     # characters: far beyond any GSM8K answer, small enough to keep
MAX_ERROR = 10_000      # characters of an error message kept
MAX_WARNING = 2_000     # characters per warning, and warnings per program, kept
MAX_WARNINGS = 50


def _text(value: Any, limit: int) -> str:
    """A text field of a reply, cut at `limit`; anything but a string (or nothing) is refused."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"a text field holds {type(value).__name__}")
    return value[:limit]


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


class Language:
    """A language plugin. Subclasses set the class attributes and implement `interpreter()`.

    `parse` extracts the program from a model response (the response format is shared by all
    languages; see lowres_rl.response). `run` executes a batch in this language's worker pool and
    returns one Execution per program, in input order. Both never raise for bad programs.
    """

    name: ClassVar[str]
    fence: ClassVar[tuple[str, ...]]   # code-fence tags accepted, e.g. ("prolog", "pl")
    default_query: ClassVar[str]       # evaluated when the response gives no query
    extension: ClassVar[str] = ".txt"  # file suffix for programs on disk
    requires: ClassVar[dict[str, str]] = {}  # programs needed on PATH -> how to install them

    def missing(self) -> list[str]:
        """A sentence for each required program not found on PATH (empty when all are there)."""
        return [f"{self.name} needs `{program}` on PATH: {hint}"
                for program, hint in self.requires.items() if shutil.which(program) is None]

    def __init__(self) -> None:
        self._pool: Any = None
        self._lock = threading.Lock()

    def interpreter(self, limits: Limits) -> Interpreter:
        """Build the in-worker interpreter. Called inside the sandbox worker, once per worker."""
        raise NotImplementedError(f"{type(self).__name__} must implement interpreter()")

    def prompt_file(self) -> Path:
        """The Markdown prompt (conventions and worked examples) for this language; plugins
        shipping their own prompt override this. See prompts/ and lowres_rl.prompt."""
        from lowres_rl.resources import resource

        return resource("prompts", f"{self.name}.md")

    def normalize_query(self, query: str) -> str:
        """Tidy a query as written by a model (strip blanks); languages add their own rules."""
        return query.strip()

    def parse(self, text: str) -> Program:
        """Extract code and query from a model response (lenient: tags or fenced code)."""
        from lowres_rl.response import extract_program

        return extract_program(text, self)

    def run(self, programs: Sequence[Program], limits: Limits | None = None,
            workers: int | None = None) -> list[Execution]:
        """Execute `programs` concurrently in sandbox workers; results in input order. Identical
        programs (same code and query) run once and share copies of one Execution: the
        completions of a GRPO group are often the same text, and a program's outcome is its own."""
        limits = limits or Limits()
        results: list[Execution | None] = [None] * len(programs)
        slots: dict[tuple[str, str], list[int]] = {}  # distinct job -> where its result goes
        for i, program in enumerate(programs):
            if program.error or not program.code.strip():
                results[i] = Execution(Status.NO_PROGRAM, error=program.error or "empty code")
            else:
                query = self.normalize_query(program.query or "") or self.default_query
                slots.setdefault((program.code, query), []).append(i)
        if slots:
            for places, execution in zip(slots.values(), self.pool(limits, workers).run(list(slots), limits)):
                for i in places:
                    results[i] = replace(execution, warnings=list(execution.warnings))
        return results  # type: ignore[return-value]

    def pool(self, limits: Limits, workers: int | None = None) -> Any:
        """This language's worker pool, (re)built when the worker-level limits change."""
        from lowres_rl.sandbox import Pool

        with self._lock:
            if self._pool is None or not self._pool.fits(limits, workers):
                if self._pool is not None:
                    self._pool.close()
                self._pool = Pool(self, limits, workers)
            return self._pool

    def close(self) -> None:
        """Stop this language's workers (they also stop when the process exits)."""
        with self._lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None

    def __repr__(self) -> str:
        return f"<language {self.name}>"

