"""Evaluating a model: ask every question in every language, generate, grade, and (with
--repair_turns) let the model repair programs that did not execute.

    results = evaluate_model(args)   # {"settings", "figures", "problems"}, as results.json holds
"""
from __future__ import annotations

import argparse
import logging
import time
from typing import Any, Sequence

import lowres_rl.training.checks as checks
from lowres_rl.data.prompt import build_messages
from lowres_rl.evaluation.generation import check_adapter, check_backend, load_generator
from lowres_rl.evaluation.records import language_figures, make_grader, problem_record, run_settings, sample_record
from lowres_rl.evaluation.repair import repair
from lowres_rl.evaluation.sampling import resolve_sampling
from lowres_rl.grading.answers import gold_answer
from lowres_rl.settings import RunSettings, settings_from
from lowres_rl.training.main import DEFAULT_MODEL

log = logging.getLogger("lowres_rl.evaluation.model")


def load_questions(settings: RunSettings) -> tuple[list[str], list[str], list[str | None] | None]:
    """Questions, canonical gold answers and reference programs (None without a --reference_column
    or --reference_dataset) from --dataset; SetupError naming what is wrong."""
    from lowres_rl.data.dataset import validate

    rows = checks.dataset(settings.rows)
    checks.dataset(lambda: validate(rows, settings.question_column, settings.answer_column))
    if len(rows) == 0:
        raise checks.SetupError(f"dataset {settings.dataset!r} split {settings.dataset_split!r} has no rows")
    references = rows[settings.reference_column] if settings.reference_column in rows.column_names else None
    return ([str(q) for q in rows[settings.question_column]],
            [gold_answer(str(a)) for a in rows[settings.answer_column]], references)


def evaluate_model(args: argparse.Namespace) -> dict[str, Any]:
    """Generate with the model, grade, and compute the figures of every language."""
    settings = settings_from(args)
    languages = settings.languages
    checks.languages(languages)
    check_backend(args.backend, args.load_in_4bit or args.load_in_8bit)
    check_adapter(args.adapter)
    sampling = resolve_sampling(args)
    questions, golds, references = load_questions(settings)
    model = args.model_name_or_path or DEFAULT_MODEL
    _seed(args.seed)
    generator = load_generator(args.backend, model, args.model_revision, args.adapter, args.dtype,
                               args.load_in_4bit, args.load_in_8bit, args.attn_implementation,
                               args.batch_size, args.seed, args.vllm_server_url)
    grader = make_grader(args, languages[0])
    figures, problems = {}, {}
    for language in languages:
        started = time.monotonic()
        conversations = [build_messages(q, language, variant=settings.variant, shots=settings.shots,
                                        system=not settings.bare_prompt, style=settings.prompt_style)
                         for q in questions]
        outputs = generator.generate(conversations, sampling, desc=f"{language}: generating")
        flat = [g for out in outputs for g in out]  # problem-major: problem i's samples are i*n .. i*n+n-1
        wanted = references and settings.references_in in (None, language)
        refs = _repeat(references, sampling.n) if wanted else None
        grades = grader.grade([g.text for g in flat], _repeat(golds, sampling.n), language,
                              _repeat(questions, sampling.n), refs)
        records = [sample_record(g.text, grade, g.tokens) for g, grade in zip(flat, grades)]
        problems[language] = [problem_record(i, q, gold, records[i * sampling.n:(i + 1) * sampling.n])
                              for i, (q, gold) in enumerate(zip(questions, golds))]
        if args.repair_turns:
            repair(generator, grader, language, conversations, problems[language], sampling, args.repair_turns)
        figures[language] = language_figures(problems[language], args, language)
        log.info("%s: accuracy %.1f%% over %d problems (%.0f s)", language,
                 100 * figures[language]["accuracy"], len(questions), time.monotonic() - started)
    settings_record = {**run_settings(args), "mode": "model", "model": model, "sampling": sampling.to_dict(),
                       "generation": generator.settings(sampling),
                       "accuracy": "greedy pass@1" if sampling.greedy else f"pass@1: mean share of correct "
                       f"samples, {sampling.n} per problem at temperature {sampling.temperature}"}
    return {"settings": settings_record, "figures": figures, "problems": problems}


def _repeat(values: Sequence[Any], n: int) -> list[Any]:
    return [v for v in values for _ in range(n)]


def _seed(seed: int) -> None:
    from transformers import set_seed

    set_seed(seed)
