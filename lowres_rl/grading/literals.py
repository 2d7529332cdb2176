"""Number literals in a program, read the way its language reads them, and rewritten.

    literals("X is 0x48 + 0'H. % 72", "prolog")  ->  [Literal(5, 9, 72), Literal(12, 15, 72)]
    rewrite("X is 36'20.", "prolog", {Fraction(72): Fraction(79)})  ->  "X is 79."

Used by the hard-coding check (lowres_rl.grading.hardcoding) to find the question's numbers in a program,
whatever notation writes them, and to change them. The syntax is the language's own: its
`number_syntax` (lowres_rl.languages.numerals: comments, strings and characters skipped, then a
number; the built-ins declare theirs in lowres_rl.languages.prolog, .lisp and .hy), or a reader of
its own, `number_literals(code)`. One linear scan per program; a language that declares nothing
gets decimal numerals not inside a word. At most MAX_LITERALS literals are read (the scan stops
there): bounded work on any text. Signs stay outside literals (`-12` holds 12). Values are exact
(int or Fraction), bounded as in lowres_rl.grading.answers: a numeral too long to read cheaply is
no literal. Special floats (Inf, NaN), complex numbers and unreadable escapes are skipped.
"""
from __future__ import annotations

import itertools
from typing import Any, Iterable, Mapping

from lowres_rl.languages import PluginError, UnknownLanguageError, get_language
from lowres_rl.languages.numerals import DECIMAL, Literal, Number, NumberSyntax

__all__ = ["MAX_LITERALS", "Literal", "Number", "literals", "number_text", "rewrite"]

MAX_LITERALS = 10_000  # a GSM8K program writes tens; beyond this many the rest of the text is not read


def _syntax(language: Any) -> NumberSyntax:
    """The language's NumberSyntax: `language` is a Language (or any object with `number_syntax`)
    or a registered name; anything else reads decimal numerals."""
    if isinstance(language, str):
        try:
            language = get_language(language)
        except (UnknownLanguageError, PluginError):
            return DECIMAL
    syntax = getattr(language, "number_syntax", None)
    return syntax if isinstance(syntax, NumberSyntax) else DECIMAL


def literals(code: str, language: Any) -> list[Literal]:
    """The number literals in `code`, in order: the first MAX_LITERALS of them, so that the cost
    is bounded whatever the text. `language`: a name or a Language object (whose own
    `number_literals(code)` is used when it gives one)."""
    hook = None if isinstance(language, str) else getattr(language, "number_literals", None)
    found = hook(code) if callable(hook) else None
    if found is not None:
        return sorted(itertools.islice(found, MAX_LITERALS), key=lambda lit: lit.start)
    syntax = _syntax(language)
    read = (syntax.read(m) for m in itertools.islice(syntax.pattern.finditer(code), 2 * MAX_LITERALS))
    return list(itertools.islice((lit for lit in read if lit is not None), MAX_LITERALS))


def number_text(value: Number, is_float: bool, language: Any) -> str:
    """How to write `value` in the language: decimal integers, floats with a point, and ratios in
    the language's ratio syntax (a float where it has none)."""
    ratio = _syntax(language).ratio
    if is_float or value.denominator != 1 and ratio is None:
        text = repr(float(value))
        return text if any(c in text for c in ".e") else f"{text}.0"
    if value.denominator == 1:
        return str(value.numerator)
    return ratio.format(value.numerator, value.denominator)  # type: ignore[union-attr]


def rewrite(code: str, language: Any, new_values: Mapping[Number, Number],
            found: Iterable[Literal] | None = None) -> str:
    """`code` with every literal whose value is a key of `new_values` written as its new value."""
    parts, last = [], 0
    for lit in found if found is not None else literals(code, language):
        if lit.value in new_values:
            parts += [code[last:lit.start], number_text(new_values[lit.value], lit.is_float, language)]
            last = lit.end
    return "".join(parts) + code[last:]
