"""Gold answers and numeric comparison.

    gold_answer("She makes 9 * 2 = 18 dollars.\\n#### 1,018")  ->  "1018"
    answers_match("1018.0", "1018")                         ->  True

GSM8K golds follow `####`; other datasets may give the bare number. Comparison is numeric:
integers exactly, decimals within a small relative tolerance; `$`, commas, a trailing `.0` or `.`
are tolerated; anything non-numeric never matches.
"""
from __future__ import annotations

import math
import re
from fractions import Fraction

REL_TOL = 1e-6
ABS_TOL = 1e-6
_NUMBER = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")
_RATIO = re.compile(r"^([-+]?\d+)\s*(?:/|r)\s*(\d+)$")  # 7/2 (Lisp ratio) or 7r2 (Prolog rational)


def gold_answer(text: str) -> str:
    """The canonical gold number from a GSM8K answer field (text after `####`), or the bare text.

    Raises ValueError naming the text when no number can be read from it."""
    tail = text.rsplit("####", 1)[-1].strip()
    number = parse_number(tail)
    if number is None:
        raise ValueError(f"no numeric gold answer in {text[-80:]!r}: expected '#### <number>'")
    return format_number(number)


def parse_number(text: str | None) -> Fraction | float | None:
    """Read a number written the way programs and datasets write them; None if it is not one."""
    if text is None:
        return None
    cleaned = text.strip().strip('"').replace(",", "").replace("$", "").replace("_", "").strip()
    cleaned = cleaned.rstrip(".") if cleaned.count(".") > 1 or cleaned.endswith(".") else cleaned
    ratio = _RATIO.match(cleaned)
    if ratio:
        denominator = int(ratio.group(2))
        return Fraction(int(ratio.group(1)), denominator) if denominator else None
    if not _NUMBER.match(cleaned):
        return None
    try:
        return Fraction(cleaned)
    except (ValueError, ZeroDivisionError):
        value = float(cleaned)
        return value if math.isfinite(value) else None


def format_number(number: Fraction | float) -> str:
    """`Fraction(18)` -> "18", `Fraction(7, 2)` -> "3.5"."""
    if isinstance(number, Fraction) and number.denominator == 1:
        return str(number.numerator)
    value = float(number)
    return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)


def answers_match(executed: str | None, gold: str) -> bool:
    """Whether an executed answer equals the gold one numerically (see module docstring)."""
    got, want = parse_number(executed), parse_number(gold)
    if got is None or want is None:
        return False
    if isinstance(got, Fraction) and isinstance(want, Fraction) and got.denominator == want.denominator == 1:
        return got == want
    return math.isclose(float(got), float(want), rel_tol=REL_TOL, abs_tol=ABS_TOL)
