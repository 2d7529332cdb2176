"""Unit tests for lowres_rl.grading.answers: reading gold answers and comparing executed answers to them."""
from __future__ import annotations

from fractions import Fraction

import pytest

from lowres_rl.grading.answers import answers_match, format_number, gold_answer, parse_number


@pytest.mark.parametrize("text, gold", [
    ("She makes 9 * 2 = <<9*2=18>>18 dollars.\n#### 18", "18"),
    ("Total is 1,000 + 234.\n#### 1,234", "1234"),
    ("#### -5", "-5"),
    ("#### 3.50", "3.5"),
    ("#### $1,018.00", "1018"),
    ("first #### 7\nthen #### 9", "9"),  # the text after the last ####
    ("42", "42"),                        # a bare number (other datasets)
    (" 0.25 ", "0.25"),
    ("7/2", "3.5"),
    ("1e3", "1000"),
])
def test_gold_answer(text, gold):
    assert gold_answer(text) == gold


@pytest.mark.parametrize("text", ["The answer is eighteen.\n#### eighteen", "", "#### ", "18 apples", "####"])
def test_gold_answer_rejects_non_numbers_naming_the_text(text):
    with pytest.raises(ValueError) as info:
        gold_answer(text)
    message = str(info.value)
    assert repr(text[-80:]) in message
    assert "####" in message


def test_gold_answer_error_names_a_long_text_by_its_tail():
    text = "x" * 200 + " #### twelve"
    with pytest.raises(ValueError, match="twelve"):
        gold_answer(text)


@pytest.mark.parametrize("text, value", [
    ("18", Fraction(18)),
    ("-3", Fraction(-3)),
    ("+3", Fraction(3)),
    ("3.5", Fraction(7, 2)),
    (".5", Fraction(1, 2)),
    ("18.", Fraction(18)),
    ("18.0", Fraction(18)),
    ("$1,234", Fraction(1234)),
    ("1_000", Fraction(1000)),
    ('"18"', Fraction(18)),
    ("7r2", Fraction(7, 2)),
    ("7/2", Fraction(7, 2)),
    ("-7/2", Fraction(-7, 2)),
    ("2.5e2", Fraction(250)),
    ("  42  ", Fraction(42)),
])
def test_parse_number(text, value):
    assert parse_number(text) == value


@pytest.mark.parametrize("text", [None, "", ".", "-", "abc", "NIL", "None", "1.0Inf", "inf", "nan", "0x10",
                                  "1/0", "7r0", "3*4", "1.2.3", "18 apples", "'18'", "forty-two", "1 2"])
def test_parse_number_rejects(text):
    assert parse_number(text) is None


@pytest.mark.parametrize("number, text", [
    (Fraction(18), "18"), (Fraction(7, 2), "3.5"), (Fraction(-1, 4), "-0.25"), (2.0, "2"), (0.1, "0.1"),
])
def test_format_number(number, text):
    assert format_number(number) == text


@pytest.mark.parametrize("executed, gold", [
    ("18", "18"),
    ("18.0", "18"),           # trailing .0
    ("18.", "18"),            # trailing .
    ("$18", "18"),
    ("1,018", "1018"),
    ("$1,018.00", "1018"),
    ("3.5", "3.5"),
    ("7r2", "3.5"),           # Prolog rational
    ("7/2", "3.5"),           # Lisp ratio
    ("3.5000000001", "3.5"),  # decimals within the relative tolerance
    ("0.30000000000000004", "0.3"),
    ("33.333333333333336", "33.333333333333333"),
    ("-4", "-4"),
    ("1e3", "1000"),
])
def test_answers_match(executed, gold):
    assert answers_match(executed, gold)


@pytest.mark.parametrize("executed, gold", [
    ("17", "18"),
    ("19", "18"),
    ("1000000000000000001", "1000000000000000000"),  # integers compare exactly, not within a tolerance
    ("3.51", "3.5"),
    ("3.5001", "3.5"),
    ("4", "-4"),
    ("NIL", "0"),             # non-numeric answers never match
    ("None", "0"),
    ("forty_two", "42"),
    ("3*4", "12"),
    ("", "0"),
    (None, "18"),
    ("18", "eighteen"),       # a non-numeric gold matches nothing either
    ("abc", "abc"),
])
def test_answers_do_not_match(executed, gold):
    assert not answers_match(executed, gold)


def test_answers_match_decimal_tolerance_is_relative_and_small():
    assert answers_match("1234567.0001", "1234567")      # within 1e-6 relative
    assert not answers_match("1234600", "1234567.5")
    assert answers_match("0.0000001", "0")               # within the absolute tolerance
    assert not answers_match("0.01", "0")
