"""The evaluation figures (lowres_rl.evaluation.metrics) against hand-computed values: the unbiased
pass@k estimator, any-of-n / all-of-n and best-of-N.

    python -m pytest tests/test_metrics.py -q
"""
from __future__ import annotations

import pytest

import lowres_rl.evaluation.metrics as metrics
from lowres_rl.evaluation.metrics import pass_at_k


# -- the pass@k estimator --------------------------------------------------------------------

@pytest.mark.parametrize("n, c, k, expected", [
    (1, 1, 1, 1.0), (1, 0, 1, 0.0),
    (4, 1, 1, 1 / 4),                   # pass@1 is c/n
    (10, 3, 1, 3 / 10),
    (5, 2, 2, 1 - 3 / 10),              # 1 - C(3,2)/C(5,2)
    (10, 3, 5, 1 - 21 / 252),           # 1 - C(7,5)/C(10,5)
    (4, 1, 4, 1.0),                     # n - c < k: some draw must hold the correct one
    (4, 0, 4, 0.0),
    # C(190,100)/C(200,100) = prod over i < 10 of (100 - i) / (200 - i), in exact fractions
    (200, 10, 100, 1 - 0.0007710260627178503),
])
def test_pass_at_k(n: int, c: int, k: int, expected: float) -> None:
    assert pass_at_k(n, c, k) == pytest.approx(expected, rel=1e-8)


def test_pass_at_k_rejects_impossible_inputs() -> None:
    with pytest.raises(ValueError, match="k=3"):
        pass_at_k(2, 1, 3)
    with pytest.raises(ValueError, match="c=3"):
        pass_at_k(2, 3, 1)


def test_any_and_all_of_n_and_best_of() -> None:
    def problem(*samples: tuple[str, bool]) -> dict:
        return {"samples": [{"status": s, "correct": c} for s, c in samples]}

    problems = [problem(("ok", False), ("ok", True), ("ok", True), ("ok", True)),
                problem(("syntax_error", False), ("ok", True), ("ok", False), ("ok", False)),
                problem(("ok", True), ("ok", True), ("ok", True), ("ok", True)),
                problem(("timeout", False), ("ok", False), ("ok", False), ("ok", False))]
    assert metrics.any_of_n(problems) == 3 / 4
    assert metrics.all_of_n(problems) == 1 / 4
    assert metrics.accuracy(problems) == pytest.approx((3 / 4 + 1 / 4 + 1 + 0) / 4)
    assert metrics.best_of(problems, 1) == {"n": 1, "solved": 1 / 4, "first_ok": 1 / 4}
    assert metrics.best_of(problems, 2) == {"n": 2, "solved": 3 / 4, "first_ok": 2 / 4}
