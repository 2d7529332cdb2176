"""The repair protocol, "the interpreter as a tool": a sample whose program did not execute gets
the interpreter's status and error back in a follow-up user turn, and another try.

    repair(generator, grader, "prolog", conversations, problems, sampling, turns=2)

Each new attempt is appended to its sample's `repairs`; an attempt that executes, right or wrong,
is final (the model never sees the gold answer). lowres_rl.evaluation.metrics reports accuracy
after each turn.
"""
from __future__ import annotations

import dataclasses
import logging
from typing import Any

import lowres_rl.evaluation.metrics as metrics
from lowres_rl.data.prompt import load_prompt
from lowres_rl.evaluation.generation import Generator, Sampling
from lowres_rl.evaluation.records import sample_record
from lowres_rl.languages import get_language

log = logging.getLogger("lowres_rl.evaluation.repair")


def feedback(language: str, attempt: dict[str, Any]) -> str:
    """The follow-up user turn after a failed execution: the interpreter's status and error."""
    title = load_prompt(get_language(language).prompt_file()).title
    error = attempt["error"].strip() or "(the interpreter gave no message)"
    return (f"Running your {title} program ended with status `{attempt['status']}`:\n\n{error}\n\n"
            f"Fix the program and answer again, in the same format.")


def history(conversation: list[dict[str, str]], language: str, sample: dict[str, Any]) -> list[dict[str, str]]:
    """The prompt, then each failed attempt so far followed by its feedback turn."""
    messages = list(conversation)
    for attempt in [sample, *sample["repairs"]]:
        messages.append({"role": "assistant", "content": attempt["completion"]})
        messages.append({"role": "user", "content": feedback(language, attempt)})
    return messages


def repair(generator: Generator, grader: Any, language: str, conversations: list[list[dict[str, str]]],
           problems: list[dict[str, Any]], sampling: Sampling, turns: int) -> None:
    """Every sample whose latest attempt did not execute (status not ok) gets the error back and
    one more try, up to `turns` times, one sample per retry."""
    one = dataclasses.replace(sampling, n=1)
    for turn in range(1, turns + 1):
        pending = [(p, sample, conversations[i]) for i, p in enumerate(problems) for sample in p["samples"]
                   if len(sample["repairs"]) == turn - 1 and metrics.attempt_at(sample, turn - 1)["status"] != "ok"]
        if not pending:
            log.info("%s: repair turn %d: every program executed; stopping", language, turn)
            return
        chats = [history(conversation, language, sample) for _, sample, conversation in pending]
        outputs = generator.generate(chats, one, desc=f"{language}: repair turn {turn}")
        grades = grader.grade([out[0].text for out in outputs], [p["gold"] for p, _, _ in pending], language,
                              [p["question"] for p, _, _ in pending])
        for (problem, sample, _), out, grade in zip(pending, outputs, grades):
            sample["repairs"].append(sample_record(out[0].text, grade, out[0].tokens))
        log.info("%s: repair turn %d: %d attempts, %d now correct", language, turn, len(pending),
                 sum(g.correct for g in grades))
