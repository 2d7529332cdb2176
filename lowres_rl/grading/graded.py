"""What grading knows about one completion: the input every reward component scores.

Its own module so that the components (lowres_rl.grading.presets) and the grader
(lowres_rl.grading.rewards) both import it, and neither the other.
"""
from __future__ import annotations

from dataclasses import dataclass

from lowres_rl.grading.formats import ResponseFormat
from lowres_rl.grading.response import Structure
from lowres_rl.languages.contract import Execution, Program


@dataclass
class Graded:
    """Everything known about one completion, the input of every reward component: its one
    structure (the format's reading), its program, what running it gave, and the facts about its
    language a component needs (`fences`: Language.fence, empty when the language is unavailable),
    so that no component reaches for the language registry."""

    text: str
    gold: str
    language: str
    format: ResponseFormat
    structure: Structure
    program: Program
    execution: Execution
    correct: bool = False
    hardcoded: bool = False
    strict: bool = False
    fences: tuple[str, ...] = ()
    reference: str | None = None  # the row's reference program, for the similarity components
