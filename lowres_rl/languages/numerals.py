"""How a language writes numbers, as data a generic scanner reads: `NumberSyntax`.

    syntax = NumberSyntax(pattern, read, ratio="{}/{}")   # a language's `number_syntax`
    [read(m) for m in syntax.pattern.finditer(code)]      # a Literal, or None, per match

A pattern is one regular expression: an atomic (never re-tried) run of what holds no number —
comments, quoted text, characters, words — then at most one number literal. One match per literal,
and the scan between literals runs inside the regular-expression engine, so a `%` inside `'%'`
opens no comment and digits inside `x43` are no number. `read` turns a match into a Literal with
an exact value through the bounded readers below (a numeral too long to read cheaply is none).
The scanner and the rewriting live in lowres_rl.grading.literals; the built-in languages declare
their syntax in their own modules.

Numbers are read at bounded cost: more than MAX_DIGITS digits, or a decimal exponent beyond
MAX_EXPONENT, is "not a number" rather than expanded (`1e99999999` as a Fraction is a 100-million
digit integer: minutes of arithmetic). lowres_rl.grading.answers reads answers with the same bounds.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable, NamedTuple, Union

MAX_DIGITS = 400     # digits in a numeral (mantissa, numerator or denominator); more: not a number
MAX_EXPONENT = 400   # |decimal exponent|; 1e400 is read, 1e401 is not a number

Number = Union[int, Fraction]  # an int where the value is whole: equal, and hashed equal, to its Fraction


class Literal(NamedTuple):
    """A number written at code[start:end], its exact value, and whether it is written as a float."""

    start: int
    end: int
    value: Number
    is_float: bool = False


@dataclass(frozen=True)
class NumberSyntax:
    """A language's number literals: `pattern` (see the module docstring), `read` (a match to a
    Literal, or None when the match holds no number), and `ratio`, how to write a ratio
    (`"{}/{}"`, `"{}r{}"`; None: the language has none, a float is written instead)."""

    pattern: re.Pattern
    read: Callable[[re.Match], "Literal | None"]
    ratio: str | None = None


def within_bounds(mantissa: str, exponent: str | None) -> bool:
    """Whether a decimal numeral (`mantissa` digits and dot, `exponent` like "e-5" or None) is
    small enough to read exactly: checked on the text, before any arithmetic."""
    if sum(c.isdigit() for c in mantissa) > MAX_DIGITS:
        return False
    if exponent:
        digits = exponent.lstrip("eE+-").lstrip("0")
        return len(digits) <= 4 and int(digits or "0") <= MAX_EXPONENT
    return True


def integer(digits: str, base: int = 10) -> int | None:
    """Digits in `base`, separators (`_`, `,`, blanks) dropped; None when too long or not digits."""
    if len(digits) > MAX_DIGITS:
        digits = digits.replace("_", "").replace(",", "").replace(" ", "")
        if len(digits) > MAX_DIGITS:
            return None
    try:
        return int("".join(digits.replace(",", "").split()), base)  # int() itself reads 1_000
    except ValueError:
        return None


def decimal(text: str) -> Number | None:
    """`1.5e3`, `1.5d0` (Lisp exponent markers), `.5`, `12.`: exact, bounded."""
    if text.isdigit():
        return integer(text)
    match = re.fullmatch(r"(\d*\.?\d*)(?:[eEsSfFdDlL]([-+]?\d+))?", text.replace("_", "").replace(",", ""))
    if not match or not any(c.isdigit() for c in match.group(1)):
        return None
    exponent = match.group(2)
    if not within_bounds(match.group(1), f"e{exponent}" if exponent else None):
        return None
    return Fraction(match.group(1).rstrip(".") or "0") * Fraction(10) ** int(exponent or 0)


def ratio(numerator: str, denominator: str, base: int = 10) -> Number | None:
    top, bottom = integer(numerator, base), integer(denominator, base)
    return Fraction(top, bottom) if top is not None and bottom else None


# Any other language: decimal numerals not inside a word; strings and comments are not told apart
# (rewriting a number inside one is harmless there).
_DECIMAL = re.compile(r"(?>(?:[^\W\d]\w*|[^0-9])*)(?P<number>\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?!\w))?")


def _decimal_literal(m: re.Match) -> Literal | None:
    if not m.group("number"):
        return None
    text = m.group("number")
    value = decimal(text)
    return None if value is None else Literal(m.start("number"), m.end(), value, "." in text or "e" in text.lower())


DECIMAL = NumberSyntax(_DECIMAL, _decimal_literal)
