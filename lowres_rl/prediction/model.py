"""The outcome predictor: program text -> probability of each target, without running anything.

    from lowres_rl.prediction.model import Predictor
    predictor = Predictor.load("outputs/predictor.joblib")
    predictor.predict(["solve(X) :- X is 16 - 3."])   # [{'ok': 0.93, 'syntax_error': 0.02, ...}]

Features: TF-IDF over character 2-5-grams (punctuation slips: a missing `.`, `is` against `=`,
a stray comma) and code-token 1-3-grams (identifiers, operators, builtins a model misuses), plus
a few counts n-grams cannot see (unbalanced brackets and quotes, length). One logistic regression
per target, with balanced class weights because errors are rare: the scores rank programs and
0.5 is the decision threshold; they are not calibrated frequencies. Linear models on sparse
n-grams train in seconds on thousands of programs and predict in microseconds each on a CPU, which
is the point of a run-free reward; a fine-tuned LoRA head could read deeper but costs a GPU.

A model file is a joblib pickle: load only files you made or trust.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

from lowres_rl.languages import Program
from lowres_rl.prediction.labels import program_key, program_text

FORMAT = "lowres_rl.prediction/1"
CODE_TOKEN = r"[A-Za-z_][A-Za-z0-9_\-]*|\d+(?:\.\d+)?|[^\sA-Za-z0-9_]"
INSTALL = "pip install 'lowres-rl[research]'  (or: pip install scikit-learn)"


def sklearn() -> Any:
    """scikit-learn, imported only when a predictor is built or loaded."""
    try:
        import sklearn as module
    except ImportError:
        raise ImportError(f"the outcome predictor needs scikit-learn: {INSTALL}") from None
    return module


def structure(texts: Sequence[str]) -> Any:
    """Counts n-grams cannot see: bracket and quote balance, length in lines and characters."""
    import numpy as np

    rows = []
    for text in texts:
        rows.append([abs(text.count("(") - text.count(")")), abs(text.count("[") - text.count("]")),
                     abs(text.count("{") - text.count("}")), text.count('"') % 2, text.count("'") % 2,
                     math.log1p(text.count("\n")), math.log1p(len(text))])
    return np.asarray(rows, dtype=float)


def _features() -> Any:
    sklearn()
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion, make_pipeline
    from sklearn.preprocessing import FunctionTransformer, MaxAbsScaler

    return FeatureUnion([
        ("chars", TfidfVectorizer(analyzer="char", ngram_range=(2, 5), sublinear_tf=True, lowercase=False)),
        ("tokens", TfidfVectorizer(token_pattern=CODE_TOKEN, ngram_range=(1, 3), sublinear_tf=True,
                                   lowercase=False)),
        ("structure", make_pipeline(FunctionTransformer(structure), MaxAbsScaler())),
    ])


def _text(program: Program | str) -> str:
    return program if isinstance(program, str) else program_text(program.code, program.query)


class Predictor:
    """Binary classifiers over shared features, one per target; `seen` are the keys of the
    programs it was fitted on (eval leaves them out)."""

    def __init__(self, features: Any, models: dict[str, Any], seen: set[str], info: dict[str, Any]) -> None:
        self.features, self.models, self.seen, self.info = features, models, seen, info

    @property
    def targets(self) -> tuple[str, ...]:
        return tuple(self.models)

    @classmethod
    def fit(cls, texts: Sequence[str], labels: dict[str, Sequence[bool]], keys: Sequence[str],
            info: dict[str, Any] | None = None, seed: int = 0) -> "Predictor":
        """Fit on `texts` with one label list per target. A target whose labels are all one class
        predicts that class's share as a constant (there is nothing to learn)."""
        features = _features()
        matrix = features.fit_transform(list(texts))
        from sklearn.linear_model import LogisticRegression

        models: dict[str, Any] = {}
        for target, values in labels.items():
            if len(set(values)) < 2:
                models[target] = float(bool(values[0])) if values else 0.0
            else:
                model = LogisticRegression(C=4.0, class_weight="balanced", solver="liblinear",
                                           max_iter=1000, random_state=seed)
                models[target] = model.fit(matrix, [bool(v) for v in values])
        return cls(features, models, set(keys), dict(info or {}))

    def predict(self, programs: Sequence[Program | str]) -> list[dict[str, float]]:
        """Probability of each target for each program (a Program, or its code text)."""
        if not programs:
            return []
        matrix = self.features.transform([_text(p) for p in programs])
        columns: dict[str, list[float]] = {}
        for target, model in self.models.items():
            if isinstance(model, float):
                columns[target] = [model] * len(programs)
            else:
                positive = list(model.classes_).index(True)
                columns[target] = [float(p) for p in model.predict_proba(matrix)[:, positive]]
        return [{target: columns[target][i] for target in self.models} for i in range(len(programs))]

    def has_seen(self, language: str, program: Program | str) -> bool:
        """Whether this exact program was in the training set."""
        return program_key(language, _text(program)) in self.seen

    def save(self, path: str | Path) -> Path:
        import joblib

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump({"format": FORMAT, "features": self.features, "models": self.models,
                     "seen": sorted(self.seen), "info": self.info}, path, compress=3)
        return path

    @classmethod
    def load(cls, path: str | Path) -> "Predictor":
        """A predictor saved by `save`; a ValueError naming the file when it is not one."""
        sklearn()
        import joblib

        path = Path(path)
        if not path.is_file():
            raise ValueError(f"no such model file: {path}")
        try:
            data = joblib.load(path)
        except Exception as exc:
            raise ValueError(f"{path} is not a predictor model ({type(exc).__name__}: {exc})") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"{path} is not a predictor model of format {FORMAT}")
        return cls(data["features"], data["models"], set(data["seen"]), data["info"])
