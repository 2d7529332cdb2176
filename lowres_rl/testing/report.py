"""What the conformance kit found: one CheckResult per check, gathered in a Report.

    report = check_language("scheme")
    print(report)              # one PASS/FAIL/SKIP line per check, with the reason
    report["timeout"].reason   # one check's result
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from lowres_rl.languages.contract import Execution, Limits


@dataclass
class CheckResult:
    """One check: `outcome` is "pass", "fail" or "skip"; `reason` says what was seen."""

    name: str
    outcome: str
    reason: str
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.outcome != "fail"


@dataclass
class Report:
    """Every check's result for one language. `passed` is true when none failed."""

    language: str
    spec: str
    limits: Limits
    workers: int
    results: list[CheckResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def failures(self) -> list[CheckResult]:
        return [r for r in self.results if not r.passed]

    def __getitem__(self, name: str) -> CheckResult:
        for result in self.results:
            if result.name == name:
                return result
        raise KeyError(f"no check named {name!r}; checks: {', '.join(r.name for r in self.results)}")

    def __str__(self) -> str:
        lines = [f"conformance of language {self.language!r} ({self.spec}): "
                 f"time limit {self.limits.timeout:g}s, {self.workers} workers"]
        width = max((len(r.name) for r in self.results), default=0)
        for r in self.results:
            lines.append(f"  {r.outcome.upper():4}  {r.name:<{width}}  {r.reason}  ({r.seconds:.2f}s)")
        counts = {o: sum(r.outcome == o for r in self.results) for o in ("pass", "fail", "skip")}
        verdict = "conforms" if self.passed else "DOES NOT conform"
        lines.append(f"{counts['pass']} passed, {counts['fail']} failed, {counts['skip']} skipped: "
                     f"{self.language} {verdict}")
        return "\n".join(lines)


# -- reading outcomes ----------------------------------------------------------------------------

_NUMBER = r"-?\d[\d,]*(?:\.\d+)?"
_LAST_EQUALS = re.compile(rf"=\s*\$?\s*({_NUMBER})")


def reasoned_answer(reasoning: str) -> str | None:
    """The answer a worked example's reasoning arrives at: the number after its last `=`
    (`Left: 480 − 96 = 384.` → `384`); None when the reasoning has no `= <number>`."""
    found = _LAST_EQUALS.findall(reasoning)
    return found[-1].replace(",", "") if found else None


def same_answer(got: str | None, expected: str) -> bool:
    """Equal as text, or as numbers (`16.5` and `16.50`, `59.0` and `59`)."""
    if got is None:
        return False
    if got.strip() == expected.strip():
        return True
    try:
        a, b = float(got), float(expected.replace(",", ""))
    except ValueError:
        return False
    return abs(a - b) <= 1e-9 * max(1.0, abs(b))


def first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= 120 else line[:117] + "..."


def describe(execution: Execution) -> str:
    parts = [execution.status.value]
    if execution.answer is not None:
        parts.append(f"answer {execution.answer!r}")
    if execution.error:
        parts.append(f"error {first_line(execution.error)!r}")
    return ", ".join(parts)
