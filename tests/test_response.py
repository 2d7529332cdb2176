"""Unit tests for the response formats (lowres_rl.grading.formats) and the lenient reading under them
(lowres_rl.grading.response): the strict grammar, the lenient reading (blocks, contents, fences, stray
tags, text outside blocks), program extraction with its fenced-block fallback, the registry, and
what each format serves (score, instructions, rendered responses)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lowres_rl.languages import get_language
from lowres_rl.grading.formats import ANSWER, FORMATS, PAPER, ResponseFormat, extract_program, get_format, is_strict
from lowres_rl.grading.response import Structure, analyse, unfence

WELL_FORMED = ("<reasoning>\n6 boxes of 7.\n</reasoning>\n<code>\nsolve(X) :- X is 6 * 7.\n</code>\n"
               "<query>\nsolve(X).\n</query>\n")


# -- strict ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    WELL_FORMED,
    "<reasoning>r</reasoning><code>c</code><query>q</query>",
    "  \n<reasoning>r</reasoning>\n\n<code>c</code>\t<query>q</query>\n\n",
    "<reasoning></reasoning><code></code><query></query>",           # empty blocks are still the shape
    "<reasoning>r</reasoning><code>c</code><funcall>(solve)</funcall>",  # the Lisp prompt's alias
    "<reasoning>a < b > c</reasoning><code>x <- y</code><query>q</query>",  # angle brackets in text
], ids=["paper-layout", "compact", "whitespace-around", "empty-blocks", "funcall", "angle-brackets"])
def test_strict_accepts(text):
    assert is_strict(text)


@pytest.mark.parametrize("text", [
    "Sure! " + WELL_FORMED,                                                  # prose before
    WELL_FORMED + "Hope this helps.",                                        # prose after
    "<reasoning>r</reasoning> and <code>c</code><query>q</query>",           # prose between
    "<code>c</code><reasoning>r</reasoning><query>q</query>",                # out of order
    "<reasoning>r</reasoning><code>c</code>",                                # missing query
    "<reasoning>r</reasoning><code>a</code><code>b</code><query>q</query>",  # two code blocks
    "<reasoning>r</reasoning><code>c</code><query>q</query></code>",         # stray closing tag
    "<reasoning>r<code>c</code><query>q</query>",                            # unclosed reasoning
    "",
    "no tags at all",
], ids=["prose-before", "prose-after", "prose-between", "out-of-order", "missing-query", "two-code",
        "stray-tag", "unclosed", "empty", "no-tags"])
def test_strict_rejects(text):
    assert not is_strict(text)


def test_strict_answer_variant():
    text = "<reasoning>r</reasoning>\n<answer>(defn solve [] 42)</answer>\n"
    assert is_strict(text, "answer")
    assert not is_strict(text, "paper")
    assert not is_strict(WELL_FORMED, "answer")


# -- lenient -----------------------------------------------------------------------------------

def test_analyse_well_formed():
    s = analyse(WELL_FORMED)
    assert s.blocks == ["reasoning", "code", "query"]
    assert s.contents == {"reasoning": "6 boxes of 7.", "code": "solve(X) :- X is 6 * 7.", "query": "solve(X)."}
    assert s.fences == {}
    assert (s.stray_tags, s.leading, s.between, s.trailing) == (0, 0, 0, 0)
    assert PAPER.in_order(s)
    assert not ANSWER.in_order(s)


def test_analyse_counts_text_outside_blocks():
    s = analyse("hi <reasoning>r</reasoning> mid\n<code>c</code>\n<query>q</query> bye!\n")
    assert s.blocks == ["reasoning", "code", "query"]
    assert s.leading == 2          # "hi"
    assert s.between == 3          # "mid" (blank text between blocks counts nothing)
    assert s.trailing == 4         # "bye!"
    assert s.trailing_text == " bye!\n"
    assert s.stray_tags == 0
    assert PAPER.in_order(s)


def test_analyse_text_without_blocks_is_leading():
    s = analyse("just some prose")
    assert s == Structure(leading=len("just some prose"))
    assert analyse("") == Structure()


def test_analyse_fence_unwrapped_and_tag_recorded():
    s = analyse("<reasoning>r</reasoning>\n<code>\n```Prolog\nsolve(X) :- X = 1.\n```\n</code>\n"
                "<query>\n```\nsolve(X).\n```\n</query>")
    assert s.contents["code"] == "solve(X) :- X = 1."
    assert s.contents["query"] == "solve(X)."
    assert s.fences == {"code": "prolog", "query": ""}  # lower-cased; an untagged fence records ""


def test_analyse_funcall_is_query_alias():
    s = analyse("<reasoning>r</reasoning><code>(defun solve () 1)</code><funcall>\n(solve)\n</funcall>")
    assert s.blocks == ["reasoning", "code", "query"]
    assert s.contents["query"] == "(solve)"
    assert PAPER.in_order(s)


def test_analyse_out_of_order_and_duplicates():
    s = analyse("<code>a</code><reasoning>r</reasoning><query>q</query>")
    assert s.blocks == ["code", "reasoning", "query"]
    assert not PAPER.in_order(s)
    s = analyse("<reasoning>r</reasoning><code>first</code><code>second</code><query>q</query>")
    assert s.blocks == ["reasoning", "code", "code", "query"]
    assert s.count("code") == 2
    assert s.contents["code"] == "first"  # the first occurrence's contents
    assert not PAPER.in_order(s)


@pytest.mark.parametrize("text, stray, blocks", [
    ("<reasoning>r</reasoning><code>c</code><query>q</query></code>", 1, ["reasoning", "code", "query"]),
    ("</query><reasoning>r</reasoning>", 1, ["reasoning"]),
    ("<reasoning>r<code>c</code>", 1, ["code"]),                        # opened inside another block
    ("<reasoning>r</reasoning><code>never closed", 1, ["reasoning"]),  # opened, never closed
    ("<reasoning>r</reasoning></code><code>a</code><query>q", 2, ["reasoning", "code"]),
    ("<reasoning>x </code> y</reasoning>", 1, ["reasoning"]),          # a foreign closing tag inside
])
def test_analyse_stray_tags(text, stray, blocks):
    s = analyse(text)
    assert s.stray_tags == stray
    assert s.blocks == blocks


def test_unclosed_block_body_counts_as_trailing():
    s = analyse("<reasoning>r</reasoning><code>never closed")
    assert s.trailing == len("never closed")
    assert "code" not in s.contents


def test_tags_are_case_sensitive_text():
    s = analyse("<Reasoning>r</Reasoning><CODE>c</CODE>")
    assert s.blocks == []
    assert s.leading == len("<Reasoning>r</Reasoning><CODE>c</CODE>")


@pytest.mark.parametrize("text, expected", [
    ("```prolog\nfoo.\n```", ("foo.", "prolog")),
    ("  ```\nfoo.\n```  ", ("foo.", "")),
    ("```common-lisp\n(+ 1 2)\n```", ("(+ 1 2)", "common-lisp")),
    ("```prolog\n```", ("", "prolog")),
    ("```prolog\nfoo.\n``` tail", ("```prolog\nfoo.\n``` tail", None)),  # not one fence wrapping all
    ("  plain  ", ("plain", None)),
])
def test_unfence(text, expected):
    assert unfence(text) == expected


# -- extract_program ---------------------------------------------------------------------------

PROLOG, LISP, HY = (get_language(n) for n in ("prolog", "lisp", "hy"))


def test_extract_from_tags():
    program = extract_program(WELL_FORMED, PROLOG)
    assert (program.code, program.query, program.error) == ("solve(X) :- X is 6 * 7.", "solve(X).", None)


def test_extract_without_query_leaves_default():
    program = extract_program("<reasoning>r</reasoning><code>solve(X) :- X = 1.</code>", PROLOG)
    assert program.query is None and program.code == "solve(X) :- X = 1."
    program = extract_program("<reasoning>r</reasoning><code>solve(X) :- X = 1.</code><query> </query>", PROLOG)
    assert program.query is None  # an empty query block means the default query


def test_extract_answer_block_has_no_query():
    program = extract_program("<reasoning>r</reasoning><answer>(defn solve [] 1)</answer><query>(x)</query>", HY)
    assert (program.code, program.query) == ("(defn solve [] 1)", None)


def test_extract_falls_back_to_fence_of_the_right_language():
    text = ("I will write it.\n```python\nprint(42)\n```\nIn Prolog:\n```prolog\nsolve(X) :- X is 6 * 7.\n```\n"
            "<query>solve(X).</query>")
    program = extract_program(text, PROLOG)
    assert (program.code, program.query) == ("solve(X) :- X is 6 * 7.", "solve(X).")
    # the same text holds no Lisp: the only fences are python and prolog
    assert extract_program(text, LISP).error
    assert extract_program(text, LISP).code == ""


def test_extract_fallback_accepts_untagged_fence_and_aliases():
    assert extract_program("```\n(defun solve () 1)\n```", LISP).code == "(defun solve () 1)"
    assert extract_program("```cl\n(defun solve () 1)\n```", LISP).code == "(defun solve () 1)"
    assert extract_program("```hylang\n(defn solve [] 1)\n```", HY).code == "(defn solve [] 1)"
    assert extract_program("```swipl\nsolve(1).\n```", PROLOG).code == "solve(1)."


def test_extract_empty_code_block_falls_back_or_reports():
    empty = "<reasoning>r</reasoning><code>\n</code><query>solve(X).</query>"
    program = extract_program(empty, PROLOG)
    assert program.code == "" and "no <code> block" in program.error
    rescued = extract_program("<reasoning>```prolog\nsolve(2).\n```</reasoning><code></code>", PROLOG)
    assert rescued.code == "solve(2)."


def test_extract_nothing():
    program = extract_program("The answer is 42.", PROLOG)
    assert program.code == "" and program.error


def test_language_parse_uses_extract_program():
    assert extract_program(WELL_FORMED, PROLOG) == extract_program(WELL_FORMED, PROLOG)


# -- the grader's reading of strictness agrees with the grammar --------------------------------

TAG_SOUP = ["<reasoning>", "</reasoning>", "<code>", "</code>", "<query>", "</query>", "<funcall>", "</funcall>",
            "<answer>", "</answer>", "\n", " ", "\t", "x", "solve(X).", "```prolog\n", "```", "<", ">", "é"]


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(TAG_SOUP) | st.text(max_size=4), max_size=12).map("".join),
       st.sampled_from(["paper", "answer"]))
def test_structure_strictness_is_the_grammars(text: str, variant: str) -> None:
    """The grader reads strictness off the structure (no second parse); the grammar is the spec."""
    assert get_format(variant).is_strict(analyse(text)) == is_strict(text, variant)


def test_structure_strictness_on_well_formed_responses() -> None:
    for variant, text in (("paper", WELL_FORMED), ("answer", "<reasoning>r</reasoning>\n<answer>a</answer>\n"),
                          ("paper", "  \n" + WELL_FORMED + "\n\n")):
        assert get_format(variant).is_strict(analyse(text)) and is_strict(text, variant)


# -- the registry and what each format serves --------------------------------------------------

def test_formats_are_registered_once_by_name() -> None:
    assert FORMATS == {"paper": PAPER, "answer": ANSWER}
    assert all(get_format(name).name == name for name in FORMATS)
    assert (PAPER.program_block, ANSWER.program_block) == ("code", "answer")


@pytest.mark.parametrize("bad", ["", "Paper", "json", None])
def test_unknown_format_names_the_variant_and_the_known_ones(bad) -> None:
    with pytest.raises(ValueError, match=r"unknown response format \(variant\) " + repr(bad) + "; expected one of: paper, answer"):
        get_format(bad)
    with pytest.raises(ValueError, match="paper, answer"):
        extract_program(WELL_FORMED, PROLOG, variant="Paper")


@pytest.mark.parametrize("fmt", FORMATS.values(), ids=list(FORMATS))
def test_rendered_response_is_strict_and_reads_back(fmt: ResponseFormat) -> None:
    text = fmt.render("6 boxes of 7.", "solve(X) :- X is 6 * 7.", "solve(X).")
    structure = fmt.analyse(text)
    assert fmt.parses(text) and fmt.is_strict(structure) and fmt.score(structure) == 1.0
    program = fmt.program(structure, PROLOG)
    assert program.code == "solve(X) :- X is 6 * 7."
    assert program.query == ("solve(X)." if fmt is PAPER else None)  # the answer format has no query
    other = ANSWER if fmt is PAPER else PAPER
    assert not other.parses(text) and not other.is_strict(structure)


def test_each_format_reads_its_own_program_block_first() -> None:
    """A model that writes both blocks: each format runs the block it asked for."""
    text = "<reasoning>r</reasoning><code>solve(1).</code><query>solve(X).</query><answer>solve(2).</answer>"
    assert extract_program(text, PROLOG).code == "solve(1)."
    assert (extract_program(text, PROLOG, "answer").code, extract_program(text, PROLOG, "answer").query) \
        == ("solve(2).", None)
    assert extract_program("<answer></answer>", PROLOG, "answer").error == \
        "no <answer> block and no fenced code block in the response"


@pytest.mark.parametrize("text, fences, paper, answer", [
    (WELL_FORMED, (), 1.0, 0.5),  # answer: only its reasoning block, so not in order; but clean
    ("<reasoning>r</reasoning>\n<answer>solve(1).</answer>", (), 0.4, 1.0),
    ("<reasoning>r</reasoning><code>\n```prolog\nx.\n```\n</code><query>q</query>", ("prolog", "pl"), 1.0, 0.5),
    ("<reasoning>r</reasoning><code>\n```python\nx.\n```\n</code><query>q</query>", ("prolog", "pl"), 0.8, 0.5),
    ("<reasoning>r</reasoning><code>\n```prolog\nx.\n```\n</code><query>q</query>", (), 0.8, 0.5),  # no language
    ("Sure! " + WELL_FORMED, (), 0.8, 0.3),
    ("<reasoning>r</reasoning><code> </code><query>q</query>", (), 0.8, 0.5),   # an empty code block
    ("nothing", (), 0.0, 0.0),
])
def test_format_score(text: str, fences: tuple[str, ...], paper: float, answer: float) -> None:
    structure = analyse(text)
    assert (PAPER.score(structure, fences), ANSWER.score(structure, fences)) == (paper, answer)


@pytest.mark.parametrize("fmt", FORMATS.values(), ids=list(FORMATS))
@pytest.mark.parametrize("style", ["full", "compact"])
def test_instructions_show_the_formats_tags(fmt: ResponseFormat, style: str) -> None:
    text = fmt.instructions(style)
    assert all(f"<{b}>" in text and f"</{b}>" in text for b in fmt.blocks)
    assert all(f"<{b}>" not in text for b in ("code", "query", "answer") if b not in fmt.blocks)
    assert "{language}" in text and "{default_query}" in text


def test_instructions_refuse_an_unknown_style() -> None:
    with pytest.raises(ValueError, match="'tiny'; expected one of: full, compact"):
        PAPER.instructions("tiny")
