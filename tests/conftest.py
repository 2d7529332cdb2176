"""Shared test helpers: the GSM8K test split (gold answers for the reference programs)."""
from __future__ import annotations

import functools
import json

import pytest
from shared_paths import SHARED

# The shared data is found beside the checkout (or a folder above it), see tests/shared_paths.py.
GSM8K_TEST = SHARED / "data" / "gsm8k" / "test.jsonl"


@functools.cache
def gsm8k_test_rows() -> tuple[dict, ...]:
    """Every row of the GSM8K test split, in file order (row N is problem number N, zero-based)."""
    if not GSM8K_TEST.is_file():
        raise FileNotFoundError(f"GSM8K test split not found at {GSM8K_TEST} "
                                "(expected shared/ checked out beside the repository)")
    with GSM8K_TEST.open(encoding="utf-8") as f:
        return tuple(json.loads(line) for line in f if line.strip())


def gsm8k_gold_answer(index: int) -> float:
    """The gold answer of test problem `index`: the text after '#### ', commas removed."""
    answer = gsm8k_test_rows()[index]["answer"]
    return float(answer.split("####")[-1].strip().replace(",", ""))


@pytest.fixture(scope="session")
def gsm8k_test() -> tuple[dict, ...]:
    """The GSM8K test rows (see gsm8k_test_rows)."""
    return gsm8k_test_rows()


@pytest.fixture(scope="session")
def gsm8k_gold():
    """`gsm8k_gold(index)`: the gold answer of test problem `index` as a float."""
    return gsm8k_gold_answer


def one_worker(lang: str, jobs: list[tuple[str, str]], limits) -> list:
    """Run (code, query) jobs in order on a fresh one-worker pool of `lang`: what one program
    leaves behind is what the next one meets (skipped where the interpreter is not installed)."""
    from lowres_rl.languages import get_language
    from lowres_rl.sandbox.pool import Pool

    if get_language(lang).missing():
        pytest.skip(f"{lang} is not installed here")
    pool = Pool(get_language(lang), limits, workers=1)
    try:
        return pool.run(jobs, limits)
    finally:
        pool.close()
