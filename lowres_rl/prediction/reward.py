"""The predictor as a TRL reward function: a cheap pre-filter or a weight-0 logged metric.

    from lowres_rl.prediction.reward import predicted_reward
    predicted_ok = predicted_reward("predictor.joblib", target="ok")
    predicted_ok(completions=["<code>solve(X) :- X is 2.</code>"], language=["prolog"])   # [0.97]

Each completion's program is read as the grader reads it (lowres_rl.grading.response); a
completion without one scores None (not applicable), as TRL expects of a reward that cannot judge.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

from lowres_rl.grading.formats import extract_program
from lowres_rl.grading.rewards import completion_text
from lowres_rl.languages import get_language
from lowres_rl.prediction.labels import check_targets
from lowres_rl.prediction.model import Predictor


def predicted_reward(model: str | Path | Predictor, target: str = "ok",
                     default_language: str = "prolog") -> Callable[..., list[float | None]]:
    """A reward function `f(completions, language=None, **kwargs)` scoring each completion with the
    predicted probability of `target`; `language` is the dataset column (one name per completion)."""
    predictor = model if isinstance(model, Predictor) else Predictor.load(model)
    (target,) = check_targets([target])
    if target not in predictor.targets:
        raise ValueError(f"the model predicts {', '.join(predictor.targets)}, not {target!r}")

    def reward(completions: Sequence[Any], language: Sequence[str] | None = None, **_: Any) -> list[float | None]:
        names = list(language) if language is not None else [default_language] * len(completions)
        programs = [extract_program(completion_text(c), get_language(name)) for c, name in zip(completions, names)]
        usable = [i for i, p in enumerate(programs) if not p.error and p.code.strip()]
        scores: list[float | None] = [None] * len(programs)
        for i, probabilities in zip(usable, predictor.predict([programs[i] for i in usable])):
            scores[i] = probabilities[target]
        return scores

    reward.__name__ = f"predicted_{target}"
    return reward
