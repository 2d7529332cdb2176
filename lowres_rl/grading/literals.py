"""Number literals in a program, read the way its language reads them, and rewritten.

    literals("X is 0x48 + 0'H. % 72", "prolog")  ->  [Literal(5, 9, 72), Literal(12, 15, 72)]
    rewrite("X is 36'20.", "prolog", {Fraction(72): Fraction(79)})  ->  "X is 79."

Used by the hard-coding check (lowres_rl.grading.hardcoding) to find the question's numbers in a program,
whatever notation writes them, and to change them. One linear scan per program: a regular
expression of alternatives (comment, string, character, number, word) matched left to right, so
a `%` inside `'%'` opens no comment, digits inside `x43` are no number, and `#\\;` is a character.

Per language (keyed by name):
  - prolog (SWI-Prolog 9): `%` and `/* */` comments; '…', "…", `…` quotes; `0'c` character codes;
    `0x48`, `0o110`, `0b1001000`, `36'20` radix, `144r2` rationals, floats, `1_000` and `1 000`
    digit groups.
  - lisp (Common Lisp): `;` and `#| |#` comments (nesting not followed: the inner end closes it);
    strings, `|symbols|`, `#\\c` characters; tokens read as CL numbers: `12.` integers, `144/2`
    ratios, `1.5d0` floats, `#x48`, `#b…`, `#o…`, `#36r20`. `*read-base*` is assumed 10.
  - hy (Hy 1.x): `;` comments, strings and `#[[…]]` bracket strings; Python numbers with `_` and
    `,` separators, `0x`, `0o`, `0b`.
A plugin language may supply its own reader as a method `number_literals(code) -> Iterable[Literal]`
(read with getattr). Any other language gets a fallback: decimal numerals not inside a word,
strings and comments not told apart; rewriting one inside a comment or string is harmless there.
At most MAX_LITERALS literals are read (the scan stops there): bounded work on any text.
Signs stay outside literals (`-12` holds 12). Values are exact (int or Fraction), bounded as in
lowres_rl.grading.answers: a numeral too long to read cheaply is no literal. Special floats (Inf, NaN),
complex numbers and unreadable escapes are skipped.
"""
from __future__ import annotations

import itertools
import re
from fractions import Fraction
from typing import Any, Callable, Iterable, Mapping, NamedTuple, Union

from lowres_rl.grading.answers import MAX_DIGITS, within_bounds

MAX_LITERALS = 10_000  # a GSM8K program writes tens; beyond this many the rest of the text is not read
_ESCAPES = {"n": 10, "t": 9, "r": 13, "\\": 92, "'": 39, '"': 34, "`": 96, "s": 32, "e": 27, "0": 0}


Number = Union[int, Fraction]  # an int where the value is whole: equal, and hashed equal, to its Fraction


class Literal(NamedTuple):
    """A number written at code[start:end], its exact value, and whether it is written as a float."""

    start: int
    end: int
    value: Number
    is_float: bool = False


def _integer(digits: str, base: int = 10) -> int | None:
    """Digits in `base`, separators (`_`, `,`, blanks) dropped; None when too long or not digits."""
    if len(digits) > MAX_DIGITS:
        digits = digits.replace("_", "").replace(",", "").replace(" ", "")
        if len(digits) > MAX_DIGITS:
            return None
    try:
        return int("".join(digits.replace(",", "").split()), base)  # int() itself reads 1_000
    except ValueError:
        return None


def _decimal(text: str) -> Number | None:
    """`1.5e3`, `1.5d0` (Lisp exponent markers), `.5`, `12.`: exact, bounded."""
    if text.isdigit():
        return _integer(text)
    match = re.fullmatch(r"(\d*\.?\d*)(?:[eEsSfFdDlL]([-+]?\d+))?", text.replace("_", "").replace(",", ""))
    if not match or not any(c.isdigit() for c in match.group(1)):
        return None
    exponent = match.group(2)
    if not within_bounds(match.group(1), f"e{exponent}" if exponent else None):
        return None
    return Fraction(match.group(1).rstrip(".") or "0") * Fraction(10) ** int(exponent or 0)


def _ratio(numerator: str, denominator: str, base: int = 10) -> Number | None:
    top, bottom = _integer(numerator, base), _integer(denominator, base)
    return Fraction(top, bottom) if top is not None and bottom else None


# -- Prolog ------------------------------------------------------------------------------------

# Each reader is one pattern: an atomic (never re-tried) run of what is not a number (comments,
# quoted text, words, other characters), then at most one number. One match per number literal,
# and the scan between numbers runs inside the regular-expression engine.
_PROLOG = re.compile(r"""
    (?>(?: %[^\n]* | /\*[\s\S]*?(?:\*/|\Z)
         | '(?:[^'\\]|''|\\[\s\S])*'? | "(?:[^"\\]|""|\\[\s\S])*"? | `(?:[^`\\]|``|\\[\s\S])*`?
         | [^\W\d]\w* | [^0-9] )*)
    (?: (?P<char> 0'(?:\\[\s\S]|''|[\s\S]) )
      | (?P<based> 0[xX][0-9a-fA-F_]+ | 0[oO][0-7_]+ | 0[bB][01_]+ | (?P<radix>\d{1,2})'[0-9a-zA-Z_]+ )
      | (?P<ratio> \d+r\d+ )
      | (?P<float> \d+\.\d+(?:[eE][-+]?\d+)?(?:Inf|NaN)? | \d+[eE][-+]?\d+ )
      | (?P<int> \d+(?:(?:_\s*|[ ])\d+)* ) )?
""", re.VERBOSE)


def _prolog_literal(m: re.Match) -> Literal | None:
    kind = m.lastgroup
    if kind is None:
        return None
    text = m.group(kind if kind != "radix" else "based")
    value: Number | None = None
    if kind == "int":
        value = _integer(text)
    elif kind == "char":
        body = text[2:]
        if body.startswith("\\"):
            value = _ESCAPES.get(body[1])
        else:
            value = ord(body[0])
    elif kind == "based" or kind == "radix":
        if m.group("radix"):
            base = int(m.group("radix"))
            value = _integer(text.split("'", 1)[1], base) if 2 <= base <= 36 else None
        else:
            value = _integer(text[2:], {"x": 16, "o": 8, "b": 2}[text[1].lower()])
    elif kind == "ratio":
        value = _ratio(*text.split("r"))
    elif kind == "float":
        value = None if text.endswith(("Inf", "NaN")) else _decimal(text)
    return None if value is None else Literal(m.end() - len(text), m.end(), value, kind == "float")


# -- Common Lisp and Hy: tokens, then numbers -------------------------------------------------

_LISP = re.compile(r"""
    (?>(?: ;[^\n]* | \#\|[\s\S]*?(?:\|\#|\Z) | "(?:[^"\\]|\\[\s\S])*"? | \|(?:[^|\\]|\\[\s\S])*\|?
         | \#\\[\s\S][^\s()'"`;,|]* | \#(?!(?:[xXbBoO]|\d{1,2}[rR])[-+]?[0-9a-zA-Z])
         | [^\s()'"`;,|\#0-9+\-.][^\s()'"`;,|]* | [\s()'"`,] )*)
    (?: (?P<based> \#(?:[xX]|[bB]|[oO]|\d{1,2}[rR]) )(?P<sign>[-+]?)(?P<digits>[0-9a-zA-Z]+(?:/[0-9a-zA-Z]+)?)
      | (?P<token> [0-9+\-.][^\s()'"`;,|]* ) )?
""", re.VERBOSE)
_LISP_NUMBER = re.compile(r"([-+]?)(\d+/\d+|\d+\.?|\d*\.\d+(?:[esfdlESFDL][-+]?\d+)?"
                          r"|\d+(?:\.\d*)?[esfdlESFDL][-+]?\d+)")


def _lisp_literal(m: re.Match) -> Literal | None:
    if m.group("based"):
        prefix = m.group("based")[1:].lower()
        base = {"x": 16, "b": 2, "o": 8}.get(prefix) or int(prefix[:-1])
        digits = m.group("digits")
        value = _ratio(*digits.split("/"), base=base) if "/" in digits else _integer(digits, base)
        start = m.start("digits") if m.group("sign") else m.start("based")
        return None if value is None or not 2 <= base <= 36 else Literal(start, m.end(), value)
    number = m.group("token") and _LISP_NUMBER.fullmatch(m.group("token"))
    if not number:
        return None
    body = number.group(2)
    is_float = not ("/" in body or body.rstrip(".").isdigit())
    value = _ratio(*body.split("/")) if "/" in body else _decimal(body)
    start = m.start("token") + len(number.group(1))
    return None if value is None else Literal(start, m.end(), value, is_float)


_HY = re.compile(r"""
    (?>(?: ;[^\n]* | "(?:[^"\\]|\\[\s\S])*"? | \#\[(?P<delim>[^\[\]\s]{0,32})\[[\s\S]*?(?:\](?P=delim)\]|\Z)
         | [^\s()\[\]{}"';`~0-9+\-.][^\s()\[\]{}"';`~]* | [\s()\[\]{}'`~] )*)
    (?P<token> [0-9+\-.][^\s()\[\]{}"';`~]* )?
""", re.VERBOSE)
_HY_NUMBER = re.compile(r"([-+]?)(0[xX][0-9a-fA-F_,]+|0[oO][0-7_,]+|0[bB][01_,]+"
                        r"|[\d_,]*\.?[\d_,]*(?:[eE][-+]?[\d_]+)?)")


def _hy_literal(m: re.Match) -> Literal | None:
    number = m.group("token") and _HY_NUMBER.fullmatch(m.group("token"))
    body = number.group(2) if number else ""
    if not (body[:1].isdigit() or body[:1] == "." and body[1:2].isdigit()):
        return None
    if body[:2].lower() in ("0x", "0o", "0b"):
        value, is_float = _integer(body[2:], {"x": 16, "o": 8, "b": 2}[body[1].lower()]), False
    else:
        is_float = any(c in body for c in ".eE")
        value = _decimal(body) if is_float else _integer(body)
    start = m.start("token") + len(number.group(1))
    return None if value is None else Literal(start, m.end(), value, is_float)


# -- unknown languages -------------------------------------------------------------------------

_FALLBACK = re.compile(r"(?>(?:[^\W\d]\w*|[^0-9])*)(?P<number>\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?!\w))?")


def _fallback_literal(m: re.Match) -> Literal | None:
    if not m.group("number"):
        return None
    text = m.group("number")
    value = _decimal(text)
    return None if value is None else Literal(m.start("number"), m.end(), value, "." in text or "e" in text.lower())


_READERS: dict[str, tuple[re.Pattern, Callable[[re.Match], Literal | None]]] = {
    "prolog": (_PROLOG, _prolog_literal), "lisp": (_LISP, _lisp_literal), "hy": (_HY, _hy_literal),
}
_RATIO_SYNTAX = {"prolog": "{}r{}", "lisp": "{}/{}"}


def _name(language: Any) -> str:
    return language if isinstance(language, str) else str(getattr(language, "name", ""))


def literals(code: str, language: Any) -> list[Literal]:
    """The number literals in `code`, in order: the first MAX_LITERALS of them, so that the cost
    is bounded whatever the text. `language`: a name or a Language object (whose own
    `number_literals(code)` is used when it has one)."""
    hook = None if isinstance(language, str) else getattr(language, "number_literals", None)
    if callable(hook):
        return sorted(itertools.islice(hook(code), MAX_LITERALS), key=lambda lit: lit.start)
    pattern, read = _READERS.get(_name(language), (_FALLBACK, _fallback_literal))
    found = (read(m) for m in itertools.islice(pattern.finditer(code), 2 * MAX_LITERALS))
    return list(itertools.islice((lit for lit in found if lit is not None), MAX_LITERALS))


def number_text(value: Number, is_float: bool, language: Any) -> str:
    """How to write `value` in the language: decimal integers, floats with a point, and ratios in
    the language's ratio syntax (a float where it has none)."""
    if is_float or value.denominator != 1 and _name(language) not in _RATIO_SYNTAX:
        text = repr(float(value))
        return text if any(c in text for c in ".e") else f"{text}.0"
    if value.denominator == 1:
        return str(value.numerator)
    return _RATIO_SYNTAX[_name(language)].format(value.numerator, value.denominator)


def rewrite(code: str, language: Any, new_values: Mapping[Number, Number],
            found: Iterable[Literal] | None = None) -> str:
    """`code` with every literal whose value is a key of `new_values` written as its new value."""
    parts, last = [], 0
    for lit in found if found is not None else literals(code, language):
        if lit.value in new_values:
            parts += [code[last:lit.start], number_text(new_values[lit.value], lit.is_float, language)]
            last = lit.end
    return "".join(parts) + code[last:]
