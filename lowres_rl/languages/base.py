"""The plugin contract: a language describes itself, and lowres-rl does the rest.

    from lowres_rl.languages import get_language
    from lowres_rl.grading.formats import extract_program
    from lowres_rl.sandbox import run
    prolog = get_language("prolog")
    [execution] = run(prolog, [extract_program(completion, prolog)])

A language subclasses `Language`, names itself, its code fences and its default query, and supplies
an `Interpreter` built *inside a sandbox worker* (lowres_rl.sandbox): the parent process never
runs model-written code. Parsing responses (lowres_rl.grading) and running programs
(lowres_rl.sandbox) are done *to* a language, not by it, so this module imports only the contract.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import ClassVar

from lowres_rl.languages.contract import Interpreter, Limits


class Language:
    """A language plugin. Subclasses set the class attributes and implement `interpreter()`;
    an instance is a description (cheap, stateless), rebuilt by name inside each sandbox worker."""

    name: ClassVar[str]
    fence: ClassVar[tuple[str, ...]]   # code-fence tags accepted, e.g. ("prolog", "pl")
    default_query: ClassVar[str]       # evaluated when the response gives no query
    extension: ClassVar[str] = ".txt"  # file suffix for programs on disk
    requires: ClassVar[dict[str, str]] = {}  # programs needed on PATH -> how to install them

    def missing(self) -> list[str]:
        """A sentence for each required program not found on PATH (empty when all are there)."""
        return [f"{self.name} needs `{program}` on PATH: {hint}"
                for program, hint in self.requires.items() if shutil.which(program) is None]

    def interpreter(self, limits: Limits) -> Interpreter:
        """Build the in-worker interpreter. Called inside the sandbox worker, once per worker."""
        raise NotImplementedError(f"{type(self).__name__} must implement interpreter()")

    def prompt_file(self) -> Path:
        """The Markdown prompt (conventions and worked examples) for this language; plugins
        shipping their own prompt override this. See prompts/ and lowres_rl.data.prompt."""
        from lowres_rl.languages.resources import resource

        return resource("prompts", f"{self.name}.md")

    def normalize_query(self, query: str) -> str:
        """Tidy a query as written by a model (strip blanks); languages add their own rules."""
        return query.strip()

    def __repr__(self) -> str:
        return f"<language {self.name}>"

