"""Gold answers and numeric comparison.

    gold_answer("She makes 9 * 2 = 18 dollars.\\n#### 1,018")  ->  "1018"
    answers_match("1018.0", "1018")                         ->  True

GSM8K golds follow `####`; other datasets may give the bare number. Comparison is numeric:
integers exactly, decimals within a small relative tolerance; `$`, commas, a trailing `.0` or `.`
are tolerated; anything non-numeric never matches.

Every number is read at bounded cost (lowres_rl.languages.numerals): more than MAX_DIGITS digits,
or a decimal exponent beyond MAX_EXPONENT, is "not a number" rather than expanded (`1e99999999` as
a Fraction is a 100-million digit integer: minutes of arithmetic in the trainer). GSM8K answers
have at most a dozen digits.
"""
from __future__ import annotations

import re
from fractions import Fraction

from lowres_rl.languages.numerals import MAX_DIGITS, within_bounds  # programs are read within the same bounds

REL_TOL = Fraction(1, 10**6)
ABS_TOL = Fraction(1, 10**6)
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


def parse_number(text: str | None) -> Fraction | None:
    """Read a number written the way programs and datasets write them; None if it is not one."""
    if text is None:
        return None
    cleaned = text.strip().strip('"').replace(",", "").replace("$", "").replace("_", "").strip()
    cleaned = cleaned.rstrip(".") if cleaned.count(".") > 1 or cleaned.endswith(".") else cleaned
    ratio = _RATIO.match(cleaned)
    if ratio:
        if max(len(ratio.group(1)), len(ratio.group(2))) > MAX_DIGITS + 1:
            return None
        denominator = int(ratio.group(2))
        return Fraction(int(ratio.group(1)), denominator) if denominator else None
    number = _NUMBER.match(cleaned)
    if not number or not within_bounds(number.group(1), number.group(3)):
        return None
    return Fraction(cleaned)


def format_number(number: Fraction | float) -> str:
    """`Fraction(18)` -> "18", `Fraction(7, 2)` -> "3.5", `2.0` -> "2"."""
    number = Fraction(number)
    if number.denominator == 1:
        return str(number.numerator)
    try:
        return repr(float(number))
    except OverflowError:  # beyond float range (bounded by MAX_DIGITS): exact, as a ratio
        return f"{number.numerator}/{number.denominator}"


def answers_match(executed: str | None, gold: str) -> bool:
    """Whether an executed answer equals the gold one numerically (see module docstring)."""
    got, want = parse_number(executed), parse_number(gold)
    if got is None or want is None:
        return False
    return numbers_equal(got, want)


def numbers_equal(a: Fraction, b: Fraction) -> bool:
    """Integers exactly, anything else within the tolerances; exact arithmetic (no float overflow)."""
    if a.denominator == b.denominator == 1:
        return a == b
    return abs(a - b) <= max(ABS_TOL, REL_TOL * max(abs(a), abs(b)))
