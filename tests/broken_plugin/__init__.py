"""Deliberately broken languages for tests/test_plugin_kit.py (test support, not tests).

Sandbox workers rebuild a language from its `module:Class` spec, so these live in an importable
package: tests/ is on the test process's sys.path, and workers inherit that as PYTHONPATH.

    AlwaysOk      answers `ok 42` to everything: no errors, no time limit, no exit handling
    SharedModule  Hy, but every program runs in one shared namespace: definitions leak
    needs_missing a plugin module whose import fails (a dependency that is not installed)
"""
from __future__ import annotations

import types
from pathlib import Path

from lowres_rl.languages import Execution, Interpreter, Language, Limits, Status
from lowres_rl.languages.hy import Hy, HyInterpreter
from lowres_rl.languages.resources import resource
from lowres_rl.testing.kit import BUILTIN_SAMPLES

SAMPLES = BUILTIN_SAMPLES["hy"]  # AlwaysOk pretends to be Hy


class AlwaysOk(Language):
    name = "always-ok"
    fence = ("hy",)
    default_query = "(solve)"
    extension = ".hy"

    def interpreter(self, limits: Limits) -> Interpreter:
        return _Yes()

    def prompt_file(self) -> Path:
        return resource("prompts", "hy.md")


class _Yes:
    def execute(self, code: str, query: str, limits: Limits) -> Execution:
        return Execution(Status.OK, answer="42")


class SharedModule(Hy):
    name = "shared-module"

    def prompt_file(self) -> Path:
        return resource("prompts", "hy.md")

    def interpreter(self, limits: Limits) -> Interpreter:
        return _SharedModuleInterpreter()


class _SharedModuleInterpreter(HyInterpreter):
    """Hy in the worker's own process with one module for every program (no fork, no fresh
    namespace): definitions leak; endless loops are left to the pool's kill."""

    def __init__(self) -> None:
        super().__init__()
        self._shared = types.ModuleType("shared")

    def execute(self, code: str, query: str, limits: Limits) -> Execution:
        prepared = self._prepare(code, query)
        if isinstance(prepared, Execution) or prepared.units is None:
            return prepared if isinstance(prepared, Execution) else Execution(Status.CRASHED, error="macros")
        return self._run(self._shared.__dict__, iter(prepared.units), limits)
