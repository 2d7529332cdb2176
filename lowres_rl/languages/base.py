"""The plugin contract: a language describes itself, and lowres-rl does the rest.

    from lowres_rl.languages import get_language
    from lowres_rl.grading.formats import extract_program
    from lowres_rl.sandbox import run
    prolog = get_language("prolog")
    [execution] = run(prolog, [extract_program(completion, prolog)])

A language subclasses `Language`, names itself, its code fences and its default query, and supplies
an interpreter built *inside a sandbox worker* (lowres_rl.sandbox): the parent process never
runs model-written code. Parsing responses (lowres_rl.grading) and running programs
(lowres_rl.sandbox) are done *to* a language, not by it, so this module imports only the contract.

Every hook lowres-rl reads from a plugin is declared here with its default: on `Language` the
required `interpreter()` and the optional `requires`, `extension`, `kill_grace`, `comments`, `number_syntax`,
`number_literals()`, `synthetic()`, `prompt_file()`, `normalize_query()`, `error_type()` and
`warning_kind()`; on the interpreter
(`BaseInterpreter`) the required `execute()` and the optional `helper_pids()`. A language driven
through a long-lived interpreter process gets the plumbing from lowres_rl.languages.pipe.
"""
from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Iterable

from lowres_rl.languages.contract import MAX_ERROR_TYPE, Execution, Interpreter, Limits, Status
from lowres_rl.languages.numerals import DECIMAL, Literal, NumberSyntax
from lowres_rl.languages.recipe import Recipe


@dataclass(frozen=True)
class Comments:
    """What in a language's text is not code: its line-comment markers, its block-comment
    delimiters, and the characters that quote strings (whose insides no comment marker opens)."""

    line: tuple[str, ...] = ()
    block: tuple[tuple[str, str], ...] = ()
    quotes: str = '"'


class BaseInterpreter:
    """Runs programs one at a time inside a sandbox worker process (never in the trainer).

    Output: a program's prints reach the worker's fds 1 and 2, which are capture files. An
    interpreter that collects output itself returns it in `Execution.stdout`/`stderr`; one that
    leaves them empty gets what the capture files hold (the first `limits.output_bytes`)."""

    def execute(self, code: str, query: str, limits: Limits) -> Execution:
        """Run `code`, then evaluate `query` for the answer. Never raises for a bad program: every
        outcome is an Execution (a raise is reported as `crashed`)."""
        raise NotImplementedError(f"{type(self).__name__} must implement execute()")

    def helper_pids(self) -> list[int]:
        """Processes the interpreter itself keeps running between programs (an SBCL, a Guile
        server): the worker's own helpers, not a program's leftovers (lowres_rl.sandbox.workspace
        counts their threads instead of killing them). Default: none."""
        return []


class Language:
    """A language plugin. Subclasses set the class attributes and implement `interpreter()`;
    an instance is a description (cheap, stateless), rebuilt by name inside each sandbox worker."""

    name: ClassVar[str]
    fence: ClassVar[tuple[str, ...]]   # code-fence tags accepted, e.g. ("prolog", "pl")
    default_query: ClassVar[str]       # evaluated when the response gives no query
    extension: ClassVar[str] = ".txt"  # file suffix for programs on disk
    requires: ClassVar[dict[str, str]] = {}  # programs needed on PATH -> how to install them
    # Seconds past a program's time limit before the pool kills its worker: the interpreter's own
    # limits (and a pipe interpreter's `margin`) act first, so a timeout rarely costs a worker.
    kill_grace: ClassVar[float] = 0.5
    # Comment and string syntax: read where program text is compared as text (the similarity
    # rewards, lowres_rl.grading.similarity). Default: no comments, double-quoted strings.
    comments: ClassVar[Comments] = Comments()
    # How the language writes numbers, and what holds none (comments, strings, characters): read by
    # the hard-coding check (lowres_rl.grading.literals). Default: decimal numerals not in a word.
    number_syntax: ClassVar[NumberSyntax] = DECIMAL

    def missing(self) -> list[str]:
        """A sentence for each required program not found on PATH (empty when all are there)."""
        return [f"{self.name} needs `{program}` on PATH: {hint}"
                for program, hint in self.requires.items() if shutil.which(program) is None]

    def interpreter(self, limits: Limits) -> Interpreter:
        """Build the in-worker interpreter (a BaseInterpreter, or anything with `execute`).
        Called inside the sandbox worker, once per worker."""
        raise NotImplementedError(f"{type(self).__name__} must implement interpreter()")

    def number_literals(self, code: str) -> Iterable[Literal] | None:
        """A reader of the number literals in `code` for syntax a NumberSyntax cannot say; None
        (the default) has lowres_rl.grading.literals scan with `number_syntax`."""
        return None

    def synthetic(self, recipe: Recipe) -> str | None:
        """A reference program for a synthetic word problem (lowres_rl.offline.synthetic), whose
        default query computes `recipe`'s last step; None (the default): this language has none."""
        return None

    def prompt_file(self) -> Path:
        """The Markdown prompt (conventions and worked examples) for this language; plugins
        shipping their own prompt override this. See prompts/ and lowres_rl.data.prompt."""
        from lowres_rl.languages.resources import resource

        return resource("prompts", f"{self.name}.md")

    def normalize_query(self, query: str) -> str:
        """Tidy a query as written by a model (strip blanks); languages add their own rules."""
        return query.strip()

    def error_type(self, execution: Execution) -> str:
        """What kind of error ended `execution`, for diagnostics (lowres_rl.evaluation.diagnostics):
        "timeout" or "memory" for those statuses (however the limit was enforced: an inference
        limit, a step budget, a kill), else the type the interpreter reported, else a conservative
        guess from the message (a leading exception class `NameError: ...` or error term
        `type_error(...)`), else "" (unknown, or nothing went wrong)."""
        if execution.status in (Status.TIMEOUT, Status.MEMORY):
            return execution.status.value
        if execution.error_type or execution.status not in (Status.SYNTAX_ERROR, Status.RUNTIME_ERROR):
            return execution.error_type
        guess = _NAMED_ERROR.match(execution.error)
        return guess.group(1)[:MAX_ERROR_TYPE] if guess else ""

    def warning_kind(self, warning: str) -> str:
        """The kind of a warning, for the lint profile: the same for every warning of that kind
        whatever it names. Default: its first line up to the first colon, with quoted names and
        numbers dropped, lower-cased (`Singleton variables: [X]` → `singleton variables`)."""
        head = warning.strip().split("\n", 1)[0].split(":", 1)[0]
        head = _WARNING_NOISE.sub(" ", head)
        return " ".join(head.lower().split())[:80] or "other"

    def __repr__(self) -> str:
        return f"<language {self.name}>"


# A message that starts by naming its error: `NameError: ...`, `type_error(...)`, `TYPE-ERROR ...`.
_NAMED_ERROR = re.compile(r"\s*(?:error\()?([A-Za-z][\w.]*(?:Error|Exception)|[a-z]+_error|[A-Z]+(?:-[A-Z]+)*-ERROR)\b")
_WARNING_NOISE = re.compile(r"'[^']*'|`[^`]*'|\"[^\"]*\"|\|[^|]*\||\d+")
