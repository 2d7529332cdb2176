"""Prompt token budget: how long the rendered prompts are, and `--max_prompt_length`.

    lengths = prompt_lengths(dataset, tokenizer)          # one per row, chat template included
    summary(lengths, dataset["language"])                 # {"prolog": {"min": .., "median": .., "max": ..}}
    fit = fit_prompts(dataset, tokenizer, 256)            # fit.dataset: the rows that fit; fit.dropped

Prompt tokens are paid once per generation: with 8 generations per question a 600-token prompt
costs 4,800 tokens of prefill per question per step, which is why the paper capped prompts at 256.
A row that does not fit is never dropped silently: the count per language is logged at start-up.
"""
from __future__ import annotations

import logging
import statistics
from dataclasses import dataclass
from typing import Any, Sequence

log = logging.getLogger("lowres_rl.training.budget")


class PromptBudgetError(ValueError):
    """No prompt fits the budget; the message says the shortest and what to change."""


@dataclass(frozen=True)
class Fit:
    """The rows that fit, the prompt lengths of all rows (per language) and the drops per language."""

    dataset: Any
    stats: dict[str, dict[str, float]]
    dropped: dict[str, int]


def prompt_lengths(dataset: Any, tokenizer: Any) -> list[int]:
    """Tokens of each row's `prompt` rendered with the chat template, generation prompt included
    (the count lowres_rl.data.prompt.prompt_token_ids gives, tokenised in one batch)."""
    texts = [tokenizer.apply_chat_template(p, add_generation_prompt=True, tokenize=False) for p in dataset["prompt"]]
    return [len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]] if texts else []


def summary(lengths: Sequence[int], languages: Sequence[str]) -> dict[str, dict[str, float]]:
    """min / median / max prompt tokens (and the row count) per language, in first-seen order."""
    by_language: dict[str, list[int]] = {}
    for n, language in zip(lengths, languages):
        by_language.setdefault(language, []).append(n)
    return {language: {"rows": len(ns), "min": min(ns), "median": statistics.median(ns), "max": max(ns)}
            for language, ns in by_language.items()}


def describe(stats: dict[str, dict[str, float]]) -> str:
    """One line: `prolog 120/160/318, lisp ...` (min/median/max tokens)."""
    return ", ".join(f"{lang} {s['min']:g}/{s['median']:g}/{s['max']:g}" for lang, s in stats.items())


def fit_prompts(dataset: Any, tokenizer: Any, max_tokens: int | None) -> Fit:
    """The rows whose prompt fits `max_tokens` (all rows when None). Logs the prompt lengths per
    language and, with a budget, how many rows of each language it dropped; raises
    PromptBudgetError when none fits (a run with no data would fail later, and less clearly)."""
    lengths = prompt_lengths(dataset, tokenizer)
    languages = dataset["language"]
    stats = summary(lengths, languages)
    log.info("prompt tokens min/median/max: %s", describe(stats))
    dropped = {lang: sum(1 for n, l in zip(lengths, languages) if l == lang and max_tokens and n > max_tokens)
               for lang in stats}
    if not max_tokens:
        return Fit(dataset, stats, dropped)
    keep = [i for i, n in enumerate(lengths) if n <= max_tokens]
    if not keep:
        raise PromptBudgetError(f"every prompt is longer than --max_prompt_length {max_tokens} tokens "
                                f"(shortest: {min(lengths)}); raise it, use fewer --shots or "
                                f"--prompt_style compact")
    if len(keep) < len(lengths):
        log.warning("--max_prompt_length %d drops %d of %d rows (%s); %d remain", max_tokens,
                    len(lengths) - len(keep), len(lengths),
                    ", ".join(f"{lang} {n}" for lang, n in dropped.items()), len(keep))
    else:
        log.info("--max_prompt_length %d: every one of the %d prompts fits", max_tokens, len(lengths))
    return Fit(dataset.select(keep), stats, dropped)
