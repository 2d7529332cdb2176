"""Reward presets: which components a grading produces and how much each weighs.

`default` (ours):
  - format (weight 1.0): partial credit, 0..1, the response format's score (ResponseFormat.score):
    0.6 shared among the required blocks present exactly once and non-empty (0.2 each for the
    paper's 3), 0.2 when they come in order, 0.2 when nothing else is there (no prose before,
    between or after; no stray tags; no code fence of another language).
    Why partial: a small model rarely gets the whole format at first, and a graded signal gives
    GRPO's group-relative advantages something to rank before any program runs correctly.
  - correctness (2.0): 1 when the executed answer equals gold and is not hard-coded. Weighted
    above format so that format can never outweigh solving the problem; hard-coded answers earn
    nothing, since models trained on correctness alone learn to write the answer as a literal.
  - execution (0.0): 0 ok; -0.5 no answer or runtime error; -1 syntax error, timeout, memory,
    crash or no program. A metric unless weighted: turn it on to push towards running programs.
  - lint (0.0): -0.25 per interpreter warning (Prolog singletons; Lisp warnings signalled at run
    time: SBCL interprets programs, so it no longer reports compile-time style-warnings), floor -1.
  - hardcoded (0.0): 1 when the program hard-codes its answer (lowres_rl.grading.hardcoding); logged so
    the hard-coding rate shows up as rewards/hardcoded/mean.

`paper`: the published Prolog training script of "From Reasoning to Code" (arXiv 2506.11027),
reproduced exactly, quirks included (see paper_* functions): xmlcount, strict_format, soft_format
and correctness (+1 correct, -0.5 non-numeric binding, -1 wrong or error, 0 on a timeout).
One knowing deviation: in the script, a print that calls float() on the binding runs before the
try that would return -0.5, so a non-numeric binding actually scored -1 there. We keep the -0.5
the script (and the paper) states as its intent; see the project notes.
Correctness here reads the first numeric binding; the paper's grader accepted any binding equal
to gold. On the paper's own 520 completions the two agree on 95.8% (benchmarks/paper_agreement.py).

`rl4qe`: after RL4QE ("Enhancing queries for code generation with reinforcement learning",
Yuan et al., Scientific Reports 2025): a text reward against a reference program plus execution
signals. That paper found BLEU-4 the most reliable text reward (ROUGE-L and F1 close behind) and
added penalties for syntax errors and timeouts, with unit tests as the execution reward. We did not
have its coefficients, so the weights are ours, chosen to keep its order of importance:
  - bleu (1.0): BLEU-4 of the program (code + query) against the row's reference program
    (lowres_rl.grading.similarity), 0..1: the dense signal, which ranks a group's completions
    before any of them is correct. Rows without a reference get None (TRL: not applicable).
  - execution (0.5): the default preset's penalties, 0 ok, -0.5 runtime error or no answer, -1
    syntax error, timeout, memory, crash or no program (the paper's syntax and timeout penalties,
    on top of the text reward); half weight, so that a broken program loses at most 0.5 and a
    penalty never outweighs a correct answer.
  - correctness (1.0): the gold answer, not hard-coded: GSM8K's stand-in for the paper's unit
    tests. Equal to BLEU so that a correct program is never worth less than a copied-looking one.
  - format (0.5): our partial-credit format; the paper's refiner wrote no tags, ours must, or no
    program can be read; half weight, since BLEU of an unreadable program is 0 anyway.
  - rouge_l, token_f1, hardcoded (0.0): metrics, logged next to the rewards.

Similarity components (bleu, rouge_l, token_f1; lowres_rl.grading.similarity) score only rows
with a reference program and are None (absent from a Grade's scores) elsewhere; `with_similarity`
adds them at weight 0 to any preset, as training does when its dataset has a reference column.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from lowres_rl.grading.answers import parse_number
from lowres_rl.languages.contract import Status
from lowres_rl.grading.graded import Graded
import lowres_rl.grading.similarity as similarity


@dataclass(frozen=True)
class Component:
    name: str
    score: Callable[[Graded], float | None]  # None: not applicable to this completion
    weight: float
    floor: float = 0.0  # the score given when grading itself failed


@dataclass(frozen=True)
class Preset:
    name: str
    components: tuple[Component, ...]


# -- default -----------------------------------------------------------------------------------

EXECUTION_PENALTY = {
    Status.OK: 0.0, Status.NO_ANSWER: -0.5, Status.RUNTIME_ERROR: -0.5, Status.SYNTAX_ERROR: -1.0,
    Status.TIMEOUT: -1.0, Status.MEMORY: -1.0, Status.CRASHED: -1.0, Status.NO_PROGRAM: -1.0,
}


def format_score(g: Graded) -> float:
    """The response format's own score (ResponseFormat.score), the program block's fence judged
    against the language's fences."""
    return g.format.score(g.structure, g.fences)


def correctness_score(g: Graded) -> float:
    return 1.0 if g.correct and not g.hardcoded else 0.0


def execution_score(g: Graded) -> float:
    return EXECUTION_PENALTY[g.execution.status]


def lint_score(g: Graded) -> float:
    return max(-1.0, -0.25 * len(g.execution.warnings))


def hardcoded_score(g: Graded) -> float:
    return 1.0 if g.hardcoded else 0.0


DEFAULT = Preset("default", (
    Component("format", format_score, 1.0),
    Component("correctness", correctness_score, 2.0),
    Component("execution", execution_score, 0.0, floor=-1.0),
    Component("lint", lint_score, 0.0, floor=-1.0),
    Component("hardcoded", hardcoded_score, 0.0),
))


# -- paper -------------------------------------------------------------------------------------

# The paper's format regexes, `^<reasoning>\s*(.*?)\s*</reasoning>\s*<code>\s*(.*?)\s*</code>\s*<query>
# \s*(.*?)\s*</query>` (strict: then `\n$`), are only ever asked whether they match. Their lazy groups
# next to `\s*` backtrack quadratically over long whitespace; whether they match is decided
# exactly by the earliest `</reasoning>\s*<code>`, then `</code>\s*<query>`, then `</query>`.
_AFTER_REASONING = re.compile(r"</reasoning>\s*<code>")
_AFTER_CODE = re.compile(r"</code>\s*<query>")


def _paper_blocks_end(text: str) -> int | None:
    """Where the earliest `</code>\\s*<query>` after `<reasoning>…</reasoning>\\s*<code>` ends."""
    if not text.startswith("<reasoning>"):
        return None
    first = _AFTER_REASONING.search(text, len("<reasoning>"))
    second = _AFTER_CODE.search(text, first.end()) if first else None
    return second.end() if second else None


def _paper_text(g: Graded) -> str:
    """The paper's Lisp prompt names the query block <funcall>: read it as <query>."""
    return g.text.replace("<funcall>", "<query>").replace("</funcall>", "</query>")


def paper_xmlcount(g: Graded) -> float:
    """count_xml from the paper's train.py, verbatim in behaviour (its trailing-text penalty
    counts the whole text when `</query>` ends the completion without a newline)."""
    text = _paper_text(g)
    count = 0.0
    if text.count("<reasoning>\n") == 1:
        count += 0.125
    if text.count("\n</reasoning>\n") == 1:
        count += 0.125
    if text.count("<code>\n") == 1:
        count += 0.125
        code = text.split("<code>\n")[-1].split("\n</code>")[0]
        query = text.split("<query>\n")[-1].split("\n</query>")[0]
        if "?-" in code or query.replace("\n", "") in code:
            count -= 0.5
    if text.count("\n</code>\n") == 1:
        count += 0.125
    if text.count("\n<query>\n") == 1:
        count += 0.125
        count -= len(text.split("\n</query>\n")[-1]) * 0.001
    if text.count("\n</query>") == 1:
        count += 0.125
        count -= (len(text.split("\n</query>")[-1]) - 1) * 0.001
    return round(count, 6)


def paper_strict_format(g: Graded) -> float:
    """The strict regex: the blocks, then `</query>\\n` ending the text (`$` also before one more \\n)."""
    text = _paper_text(g)
    end = _paper_blocks_end(text)
    ends = any(text.endswith(tail) and len(text) - len(tail) >= end
               for tail in ("</query>\n", "</query>\n\n")) if end is not None else False
    return 0.5 if ends else 0.0


def paper_soft_format(g: Graded) -> float:
    """The soft regex: the blocks from the start of the text, then any `</query>`."""
    text = _paper_text(g)
    end = _paper_blocks_end(text)
    return 0.5 if end is not None and text.find("</query>", end) >= 0 else 0.0


def paper_correctness(g: Graded) -> float:
    """+1 correct, 0 on a timeout, -0.5 for a binding that is not a number, -1 otherwise."""
    status = g.execution.status
    if status == Status.TIMEOUT:
        return 0.0
    if g.correct:
        return 1.0
    if status == Status.OK and parse_number(g.execution.answer) is None:
        return -0.5
    return -1.0


PAPER = Preset("paper", (
    Component("xmlcount", paper_xmlcount, 1.0, floor=0.0),
    Component("strict_format", paper_strict_format, 1.0),
    Component("soft_format", paper_soft_format, 1.0),
    Component("correctness", paper_correctness, 1.0, floor=-1.0),
))


# -- similarity to a reference program, and rl4qe ------------------------------------------------

def program_text(g: Graded) -> str:
    """The program a completion gave, code then query, as the similarity components read it."""
    return g.program.code + ("\n" + g.program.query if g.program.query else "")


def _similarity(metric: str) -> Callable[[Graded], float | None]:
    def score(g: Graded) -> float | None:
        if not g.reference:  # no reference program for this row: not applicable (TRL's None)
            return None
        return similarity.METRICS[metric](program_text(g), g.reference, g.language)

    score.__name__ = f"{metric}_score"
    return score


bleu_score, rouge_l_score, token_f1_score = (_similarity(m) for m in ("bleu", "rouge_l", "token_f1"))
SIMILARITY = (Component("bleu", bleu_score, 0.0), Component("rouge_l", rouge_l_score, 0.0),
              Component("token_f1", token_f1_score, 0.0))


def with_similarity(preset: Preset) -> Preset:
    """`preset` plus the similarity components it lacks, at weight 0 (metrics: logged, not rewarded)."""
    have = {c.name for c in preset.components}
    extra = tuple(c for c in SIMILARITY if c.name not in have)
    return Preset(preset.name, preset.components + extra) if extra else preset


RL4QE = Preset("rl4qe", (
    Component("bleu", bleu_score, 1.0),
    Component("execution", execution_score, 0.5, floor=-1.0),
    Component("correctness", correctness_score, 1.0),
    Component("format", format_score, 0.5),
    Component("rouge_l", rouge_l_score, 0.0),
    Component("token_f1", token_f1_score, 0.0),
    Component("hardcoded", hardcoded_score, 0.0),
))

PRESETS: dict[str, Preset] = {p.name: p for p in (DEFAULT, PAPER, RL4QE)}
