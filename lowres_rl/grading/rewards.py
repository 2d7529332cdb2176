"""The grader: completions + gold answers -> named reward components, and the TRL reward
functions built on it.

    grader = Grader(preset="default")              # check_hardcoding=False: no hard-coding check
    grades = grader.grade(completions, answers, languages="prolog", questions=questions)
    trainer = GRPOTrainer(..., reward_funcs=grader.reward_functions(),
                          args=GRPOConfig(reward_weights=grader.weights, ...))

One grading per batch: the first reward function TRL calls parses and runs every program once
(batched, in the languages' sandbox pools); the others read the same grading. Nothing here raises
into the trainer: a failure becomes status `crashed`, the lowest scores, and a log line.

The hard-coding check (lowres_rl.grading.hardcoding) runs only for correct completions with a question:
their changed programs run in one more batched `run` per language (a second only for those whose
answer did not move). Without a `question` column it is off, and the grader says so once.
"""
from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Sequence

from lowres_rl.grading.answers import answers_match
from lowres_rl.grading.hardcoding import PERTURBATIONS, moved, probe
from lowres_rl.languages import Execution, Limits, Program, Status, get_language
from lowres_rl.grading.formats import ResponseFormat, get_format
from lowres_rl.grading.presets import PRESETS, Preset
from lowres_rl.grading.graded import Graded
import lowres_rl.sandbox as sandbox
from lowres_rl.grading.similarity import require_sacrebleu

log = logging.getLogger(__name__)


@dataclass
class Grade:
    """One completion's grade: the raw component scores, their weighted sum, and why."""

    language: str
    status: str
    answer: str | None
    gold: str
    correct: bool
    hardcoded: bool
    strict_format: bool
    scores: dict[str, float]  # components that do not apply (no reference program) are left out
    reward: float
    error: str = ""
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error_type: str = ""  # the language's error_type(execution): `existence_error`, `TYPE-ERROR`, `NameError`

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def completion_text(completion: Any) -> str:
    """TRL passes plain strings, or a list of chat messages for conversational datasets."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list):
        return "".join(str(m.get("content", "")) for m in completion if isinstance(m, dict))
    return str(completion)


class Grader:
    """Grades batches of completions under a reward preset (see lowres_rl.grading.presets)."""

    def __init__(self, preset: str | Preset = "default", variant: str | ResponseFormat = "paper",
                 limits: Limits | None = None, workers: int | None = None, language: str = "prolog",
                 on_batch: Callable[[list[Grade], list[str], dict[str, Any]], None] | None = None,
                 check_hardcoding: bool = True) -> None:
        self.preset = PRESETS[preset] if isinstance(preset, str) else preset
        self.format = get_format(variant) if isinstance(variant, str) else variant
        self.limits = limits or Limits()
        self.workers = workers
        self.language = language  # for batches without a `language` column
        self.on_batch = on_batch
        self._lock = threading.Lock()
        self._count_lock = threading.Lock()
        self._cache: tuple[tuple, list[Grade]] | None = None
        self.check_hardcoding = check_hardcoding
        self.programs_run = 0  # how many programs this grader has executed (for tests and stats)
        self.probes_run = 0    # how many changed programs the hard-coding check has executed
        self._said_no_questions = False

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.preset.components]

    @property
    def weights(self) -> list[float]:
        """Reward weights in the order of `reward_functions()` (GRPOConfig.reward_weights)."""
        return [c.weight for c in self.preset.components]

    # -- grading -----------------------------------------------------------------------------

    def grade(self, completions: Sequence[Any], answers: Sequence[str], languages: str | Sequence[str],
              questions: Sequence[str] | None = None,
              references: Sequence[str | None] | None = None) -> list[Grade]:
        """Grade a batch; one Grade per completion, in order. Never raises for bad completions.
        `references`: each row's reference program (or None) for the similarity components."""
        texts = [completion_text(c) for c in completions]
        langs = [languages] * len(texts) if isinstance(languages, str) else list(languages)
        if questions is None and self.check_hardcoding and not self._said_no_questions:
            log.warning("no question column: the hard-coding check is off for these completions")
            self._said_no_questions = True
        questions = [str(q or "") for q in questions] if questions is not None else [""] * len(texts)
        if not len(texts) == len(answers) == len(langs) == len(questions):
            raise ValueError(f"batch columns differ in length: {len(texts)} completions, {len(answers)} "
                             f"answers, {len(langs)} languages, {len(questions)} questions")
        items = [self._prepare(t, str(a), lang) for t, a, lang in zip(texts, answers, langs)]
        self._attach_references(items, references)
        self._execute(items)
        for item in items:
            item.correct = _is_correct(item)
        if self.check_hardcoding:
            self._check_hardcoding(items, questions)
        return [self._score(item) for item in items]

    def _prepare(self, text: str, gold: str, language: str) -> Graded:
        """The one reading of a completion: its structure, the program in it, its language's fences."""
        structure = self.format.analyse(text)
        try:
            lang = get_language(language)
            program = self.format.program(structure, lang)
        except Exception as exc:  # an unknown language or a broken plugin: graded as a crash
            log.error("cannot parse a %r completion: %s", language, exc)
            note = f"language {language!r} unavailable: {exc}"
            return Graded(text, gold, language, self.format, structure, Program("", error=note),
                          Execution(Status.CRASHED, error=note))
        return Graded(text, gold, language, self.format, structure, program,
                      Execution(Status.NO_PROGRAM, error=program.error or ""), fences=tuple(lang.fence))

    def _attach_references(self, items: list[Graded], references: Sequence[str | None] | None) -> None:
        """Each item's reference program; a missing library is a setup error, raised, not scored 0."""
        if references is None:
            return
        if len(references) != len(items):
            raise ValueError(f"batch columns differ in length: {len(items)} completions, {len(references)} references")
        for item, reference in zip(items, references):
            item.reference = str(reference) if reference else None
        if "bleu" in self.names and any(item.reference for item in items):
            require_sacrebleu()

    def _execute(self, items: list[Graded]) -> None:
        """Run every program once: one batched `run` per language, languages side by side."""
        ready = [item for item in items if not item.program.error and item.program.code.strip()]
        with self._count_lock:
            self.programs_run += len(ready)
        for item, execution in zip(ready, self._run([(i.language, i.program) for i in ready])):
            item.execution = execution

    def _check_hardcoding(self, items: list[Graded], questions: list[str]) -> None:
        """The rule of lowres_rl.grading.hardcoding: correct programs only, each perturbation one batch."""
        pending: dict[int, tuple[Graded, tuple[Program, ...]]] = {}
        for i, (item, question) in enumerate(zip(items, questions)):
            if not (item.correct and question):
                continue
            try:
                plan = probe(item.program, get_language(item.language), question, item.execution.answer)
            except Exception:  # noqa: BLE001 - a broken reader must not stop grading
                log.exception("the hard-coding check could not read a %s program", item.language)
                continue
            if plan.hardcoded is None:
                pending[i] = (item, plan.variants)
            else:
                item.hardcoded = plan.hardcoded
        for stage in range(len(PERTURBATIONS)):  # the next change only for answers that did not move
            keys = list(pending)
            if not keys:
                break
            with self._count_lock:
                self.probes_run += len(keys)
            jobs = [(pending[k][0].language, pending[k][1][stage]) for k in keys]
            for key, execution in zip(keys, self._run(jobs)):
                if moved(pending[key][0].execution.answer, execution):
                    del pending[key]
        for item, _ in pending.values():
            item.hardcoded = True

    def _run(self, jobs: list[tuple[str, Program]]) -> list[Execution]:
        """Executions of (language, program) jobs, in order: one `run` per language, in threads."""
        by_language: dict[str, list[int]] = {}
        for i, (language, _) in enumerate(jobs):
            by_language.setdefault(language, []).append(i)
        results: list[Execution | None] = [None] * len(jobs)

        def run_one(entry: tuple[str, list[int]]) -> None:
            language, places = entry
            try:
                executions = sandbox.run(get_language(language), [jobs[i][1] for i in places], self.limits, self.workers)
            except Exception as exc:  # noqa: BLE001 - the trainer must never see this
                log.exception("running %d %s programs failed", len(places), language)
                executions = [Execution(Status.CRASHED, error=f"grader failure: {exc}") for _ in places]
            for i, execution in zip(places, executions):
                results[i] = execution

        with ThreadPoolExecutor(max_workers=max(1, len(by_language))) as threads:
            list(threads.map(run_one, by_language.items()))
        return results  # type: ignore[return-value]

    def _score(self, item: Graded) -> Grade:
        try:
            execution = item.execution
            item.strict = self.format.is_strict(item.structure)
            scores = {c.name: float(score) for c in self.preset.components
                      if (score := c.score(item)) is not None}  # None: not applicable, left out
        except Exception as exc:  # noqa: BLE001
            log.exception("scoring a completion failed")
            execution = Execution(Status.CRASHED, error=f"grader failure: {exc}")
            scores = {c.name: c.floor for c in self.preset.components}
        reward = sum(scores[c.name] * c.weight for c in self.preset.components if c.name in scores)
        return Grade(item.language, execution.status.value, execution.answer, item.gold, item.correct,
                     item.hardcoded, item.strict, scores, reward, execution.error[:500],
                     execution.warnings, execution.seconds, _error_type(item.language, execution))

    # -- TRL ---------------------------------------------------------------------------------

    def reward_functions(self) -> list[Callable[..., list[float | None]]]:
        """One TRL reward function per component, named after it; they share one grading. A
        component that does not apply to a completion (no reference program) gives TRL None."""
        return [self._reward_function(i, c.name) for i, c in enumerate(self.preset.components)]

    def _reward_function(self, index: int, name: str) -> Callable[..., list[float | None]]:
        def reward(prompts: Any = None, completions: Sequence[Any] = (), **kwargs: Any) -> list[float | None]:
            grades = self._batch(index == 0, completions, kwargs)
            return [g.scores.get(name) for g in grades]

        reward.__name__ = reward.__qualname__ = name
        return reward

    def _batch(self, fresh: bool, completions: Sequence[Any], columns: dict[str, Any]) -> list[Grade]:
        """The grading of this batch: made by the first reward function, reused by the rest."""
        answers = [str(a) for a in columns.get("answer", [""] * len(completions))]
        langs = columns.get("language") or [self.language] * len(completions)
        key = (tuple(completion_text(c) for c in completions), tuple(answers), tuple(langs))
        with self._lock:
            if fresh or self._cache is None or self._cache[0] != key:
                grades = self.grade(completions, answers, langs, columns.get("question"), columns.get("reference"))
                self._cache = (key, grades)
                if self.on_batch is not None:
                    try:
                        self.on_batch(grades, list(key[0]), columns)
                    except Exception:  # noqa: BLE001 - logging must not stop training
                        log.exception("the on_batch hook failed")
            return self._cache[1]


def summary(grades: Sequence[Grade]) -> dict[str, Any]:
    """Accuracy, format rate, hard-coding rate and counts by status for a list of grades."""
    n = len(grades) or 1
    statuses: dict[str, int] = {}
    for g in grades:
        statuses[g.status] = statuses.get(g.status, 0) + 1
    return {
        "n": len(grades),
        "accuracy": sum(g.correct for g in grades) / n,
        "format_rate": sum(g.strict_format for g in grades) / n,
        "hardcoded_rate": sum(g.hardcoded for g in grades) / n,
        "mean_reward": sum(g.reward for g in grades) / n,
        "statuses": dict(sorted(statuses.items())),
    }


def _error_type(language: str, execution: Execution) -> str:
    """The language's name for the error that ended `execution`; what the interpreter reported if
    the language is unavailable or its hook fails (a plugin's bug must not stop grading)."""
    try:
        return str(get_language(language).error_type(execution))
    except Exception:  # noqa: BLE001
        log.exception("the %s error_type hook failed", language)
        return execution.error_type


def _is_correct(item: Graded) -> bool:
    """Whether the program ran to the gold answer; False (and a log line) if comparing fails, so
    that no answer text can raise out of grading into the trainer."""
    try:
        return item.execution.status == Status.OK and answers_match(item.execution.answer, item.gold)
    except Exception:  # noqa: BLE001
        log.exception("comparing a %s answer with the gold answer failed", item.language)
        return False
