"""Supervised warm start: teach a model the response format before GRPO, on synthetic problems.

    pairs = synthetic_pairs(generate(200, seed=1), ["prolog"], messages=short_messages)
    losses = warm_start(model, tokenizer, pairs, steps=300, learning_rate=3e-3)

A randomly initialised (tiny) model never writes a tagged program, so every completion scores
the same and GRPO has no signal. A few hundred supervised steps on reference solutions make it
*sometimes* write a correct program; GRPO's job is then to make that more often. Real Qwen models
need none of this. Loss is on the response tokens only.
"""
from __future__ import annotations

import logging
import random
from typing import Callable, Sequence

from lowres_rl.data.prompt import Example, build_messages, prompt_token_ids, render_response, shown_query
from lowres_rl.offline.synthetic import Problem

log = logging.getLogger(__name__)

Messages = list[dict[str, str]]
Pair = tuple[Messages, str]  # (prompt messages, target response)


def synthetic_pairs(problems: Sequence[Problem], languages: Sequence[str], variant: str = "paper",
                    messages: Callable[[str, str], Messages] | None = None,
                    reasoning: str | None = None, mistake_rate: float = 0.0, seed: int = 0) -> list[Pair]:
    """(prompt, reference response) for every problem in every language. `messages` builds the
    prompt (default: the full prompt of lowres_rl.data.prompt); `reasoning` replaces the worked
    reasoning with a fixed line (short responses make tiny-model runs fast). With `mistake_rate`
    that share of the responses, drawn with `seed`, holds the problem's slipped program instead
    (Problem.mistakes): a model warmed up on them writes right and wrong programs, as a weak base
    model does, and only a reward can tell it which are which."""
    if not 0.0 <= mistake_rate <= 1.0:
        raise ValueError(f"mistake_rate must lie in [0, 1], got {mistake_rate!r}")
    make = messages or (lambda question, lang: build_messages(question, lang, variant=variant))
    rng = random.Random(seed)
    pairs = []
    for problem in problems:
        for lang in languages:
            programs = problem.mistakes if rng.random() < mistake_rate else problem.solutions
            example = Example(problem.question, reasoning or problem.reasoning, programs[lang], shown_query(lang))
            pairs.append((make(problem.question, lang), render_response(example, variant)))
    return pairs


def _encode(tokenizer, pair: Pair) -> tuple[list[int], int]:
    """Token ids of prompt + response + end-of-turn, and where the response starts."""
    prompt = prompt_token_ids(tokenizer, pair[0])
    response = tokenizer(pair[1] + tokenizer.eos_token, add_special_tokens=False)["input_ids"]
    return prompt + response, len(prompt)


def warm_start(model, tokenizer, pairs: Sequence[Pair], steps: int = 200, learning_rate: float = 3e-3,
               batch_size: int = 8, seed: int = 0) -> list[float]:
    """Fine-tune `model` in place on `pairs` for `steps` optimiser steps; returns the losses."""
    import torch

    encoded = [_encode(tokenizer, p) for p in pairs]
    rng = random.Random(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=0.0)
    model.train()
    losses = []
    for step in range(steps):
        batch = [encoded[rng.randrange(len(encoded))] for _ in range(batch_size)]
        ids, labels, mask = _collate(batch, tokenizer.pad_token_id)
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
        if step % 50 == 0 or step == steps - 1:
            log.info("warm start step %d/%d: loss %.3f", step + 1, steps, losses[-1])
    model.eval()
    return losses


def _collate(batch: Sequence[tuple[list[int], int]], pad_id: int):
    """Right-padded ids, labels masked (-100) outside the response, attention mask."""
    import torch

    width = max(len(ids) for ids, _ in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), width), -100, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for row, (tokens, start) in enumerate(batch):
        ids[row, :len(tokens)] = torch.tensor(tokens)
        labels[row, start:len(tokens)] = torch.tensor(tokens[start:])
        mask[row, :len(tokens)] = 1
    return ids, labels, mask
