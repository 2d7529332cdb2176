"""Run programs in a language: the one call everything above the sandbox uses.

    from lowres_rl.sandbox import run
    executions = run(get_language("prolog"), [Program(code, "total(X)")], Limits(timeout=2.0))

The sandbox owns the worker pools, one per language object, rebuilt when the worker-level limits
or the worker count change; a language only describes itself. Identical programs (same code and
query) run once and share copies of one Execution: the completions of a GRPO group are often the
same text, and a program's outcome is its own.
"""
from __future__ import annotations

import threading
from dataclasses import replace
from typing import Sequence

from lowres_rl.languages.base import Language
from lowres_rl.languages.contract import Execution, Limits, Program, Status
from lowres_rl.sandbox.pool import Pool

_pools: dict[Language, Pool] = {}
_lock = threading.Lock()


def run(language: Language, programs: Sequence[Program], limits: Limits | None = None,
        workers: int | None = None) -> list[Execution]:
    """Execute `programs` concurrently in `language`'s sandbox workers; one Execution per program,
    in input order. Never raises for a bad program: that is its Execution's status."""
    limits = limits or Limits()
    results: list[Execution | None] = [None] * len(programs)
    slots: dict[tuple[str, str], list[int]] = {}  # distinct job -> where its result goes
    for i, program in enumerate(programs):
        if program.error or not program.code.strip():
            results[i] = Execution(Status.NO_PROGRAM, error=program.error or "empty code")
        else:
            query = language.normalize_query(program.query or "") or language.default_query
            slots.setdefault((program.code, query), []).append(i)
    if slots:
        for places, execution in zip(slots.values(), pool(language, limits, workers).run(list(slots), limits)):
            for i in places:
                results[i] = replace(execution, warnings=list(execution.warnings))
    return results  # type: ignore[return-value]


def pool(language: Language, limits: Limits, workers: int | None = None) -> Pool:
    """`language`'s worker pool, (re)built when the worker-level limits or the worker count change."""
    with _lock:
        current = _pools.get(language)
        if current is None or not current.fits(limits, workers):
            if current is not None:
                current.close()
            current = _pools[language] = Pool(language, limits, workers)
        return current


def running(language: Language) -> Pool | None:
    """`language`'s pool if one is running (None when no program of it has run yet)."""
    return _pools.get(language)


def close(language: Language | None = None) -> None:
    """Stop `language`'s workers, or every language's (they also stop when the process exits)."""
    with _lock:
        for key in [language] if language is not None else list(_pools):
            found = _pools.pop(key, None)
            if found is not None:
                found.close()
