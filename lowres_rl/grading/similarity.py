"""How close a program is to a reference program, as text: BLEU-4, ROUGE-L and token F1.

    from lowres_rl.grading.similarity import bleu, rouge_l, token_f1, tokens
    tokens("solve(X) :- X is 2 * 3.  % six", "prolog")   # ['solve', '(', 'X', ')', ':-', 'X', 'is', ...]
    bleu(candidate, reference, "prolog")                   # 0.0 .. 1.0

The reward components `bleu`, `rouge_l` and `token_f1` (lowres_rl.grading.presets) score a
completion's program against its row's reference program with these. All three work on the same
code-aware tokens: identifiers, numbers, operator runs (`:-`, `=:=`, `->`) and single punctuation
marks are tokens; whitespace and the language's comments are dropped (so layout and comments
neither earn nor cost anything); a string literal is its quote marks around the tokens of its
text. Comment syntax is the language's own (`Language.comments`: `%` and `/* */` for Prolog; `;`
and `#| |#` for Lisp and Scheme; `;` for Hy); a language not installed keeps every character but
its whitespace.

Each score is in [0, 1]: 1 for token sequences that are equal, 0 for token sets that share
nothing. Empty cases: two empty programs (after comments and whitespace go) score 1, an empty
one against a non-empty one scores 0.

- BLEU-4 is sacrebleu's sentence BLEU over these tokens (what `sentence_score` gives with
  `tokenize="none"` on the tokens joined by spaces; its settings for sentences: exponential
  smoothing, effective order, so programs shorter than 4 tokens are scored on the orders they
  have), divided by 100.
  sacrebleu is an optional dependency: `pip install 'lowres-rl[research]'`.
- ROUGE-L is the F-measure (beta 1) of the longest common token subsequence: LCS/len(candidate)
  and LCS/len(reference), harmonic mean (as Lin 2004 and Google's rouge-score compute it).
- token F1 is the bag-of-tokens F1: the multiset overlap over the candidate's and the
  reference's counts (as SQuAD's F1, over code tokens).
"""
from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from typing import Any, Sequence

from lowres_rl.languages import Comments, PluginError, UnknownLanguageError, get_language

ORDER = 4  # BLEU-4
INSTALL = "pip install 'lowres-rl[research]'  (or: pip install sacrebleu)"

_WORDS = r"(?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)" \
         r"|(?P<operator>[-+*/\\^<>=:.~?@#&!|$]+)|(?P<mark>\S)"
_WORD = re.compile(_WORDS)


def _comments(language: str) -> Comments:
    """The language's comment and string syntax (Language.comments); a language that is not
    installed, or whose plugin does not load, has none: only its whitespace is dropped."""
    try:
        return get_language(language).comments
    except (UnknownLanguageError, PluginError):
        return Comments()


@lru_cache(maxsize=None)
def _scanner(language: str) -> re.Pattern[str]:
    """One pass over the text: comments (dropped), strings (split inside), then tokens."""
    syntax = _comments(language)
    comments = [re.escape(open_) + r"[\s\S]*?(?:" + re.escape(close) + r"|\Z)" for open_, close in syntax.block]
    comments += [re.escape(marker) + r"[^\n]*" for marker in syntax.line]
    strings = [f"{re.escape(q)}(?:\\\\.|[^{re.escape(q)}\\\\])*{re.escape(q)}" for q in syntax.quotes]
    parts = ([f"(?P<comment>{'|'.join(comments)})"] if comments else []) + [f"(?P<string>{'|'.join(strings)})", _WORDS]
    return re.compile("|".join(parts))


def tokens(text: str, language: str = "prolog") -> list[str]:
    """The code-aware tokens of `text` (see the module docstring)."""
    return list(_tokens(text, language))


@lru_cache(maxsize=4096)
def _tokens(text: str, language: str) -> tuple[str, ...]:
    """Cached: the three metrics read the same pair, and a group's completions share a reference."""
    out: list[str] = []
    for match in _scanner(language).finditer(text):
        kind = match.lastgroup
        if kind == "comment":
            continue
        if kind == "string":
            literal = match.group()
            out += [literal[0], *(m.group() for m in _WORD.finditer(literal[1:-1])), literal[-1]]
        else:
            out.append(match.group())
    return tuple(out)


def _empty(candidate: Sequence[str], reference: Sequence[str]) -> float | None:
    """The score of the empty cases: 1 for both empty, 0 for one; None when neither is."""
    if candidate and reference:
        return None
    return 1.0 if not candidate and not reference else 0.0


@lru_cache(maxsize=1)
def _compute_bleu() -> Any:
    """sacrebleu's BLEU from sufficient statistics (smoothing, effective order, brevity penalty)."""
    try:
        from sacrebleu.metrics.bleu import BLEU
    except ImportError as exc:
        raise ImportError(f"the bleu reward component needs sacrebleu, which is not installed: {INSTALL}") from exc
    return BLEU.compute_bleu


def require_sacrebleu() -> None:
    """Raise ImportError, saying how to install it, unless sacrebleu can be imported."""
    _compute_bleu()


@lru_cache(maxsize=4096)
def _ngrams(words: tuple[str, ...]) -> tuple[Counter, ...]:
    """1- to 4-gram counts; cached, since a group of completions shares one reference."""
    return tuple(Counter(zip(*(words[i:] for i in range(n)))) for n in range(1, ORDER + 1))


def _overlap(a: Counter, b: Counter) -> int:
    """The size of the multiset intersection (Counter's `&` builds the whole intersection)."""
    return sum(min(a[k], b[k]) for k in a.keys() & b.keys())


def bleu(candidate: str, reference: str, language: str = "prolog") -> float:
    """Sentence BLEU-4 of `candidate` against `reference`, in [0, 1]. The n-gram counts are ours
    (the same as sacrebleu's `sentence_score` with `tokenize="none"` over the tokens, which
    tests/test_similarity.py checks, at a third of its cost); the formula is sacrebleu's, with
    sentence_bleu's settings: exponential smoothing, effective order."""
    cand, ref = _tokens(candidate, language), _tokens(reference, language)
    empty = _empty(cand, ref)
    if empty is not None:
        return empty
    correct = [_overlap(c, r) for c, r in zip(_ngrams(cand), _ngrams(ref))]
    total = [max(0, len(cand) - n + 1) for n in range(1, ORDER + 1)]
    score = _compute_bleu()(correct, total, len(cand), len(ref), smooth_method="exp", effective_order=True,
                            max_ngram_order=ORDER).score / 100.0
    return min(1.0, max(0.0, round(score, 6)))


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence, bit-parallel (Allison & Dix 1986; Hyyrö 2004):
    one big-integer step per token of `b` instead of len(a) table cells, which keeps ROUGE-L on
    300-token programs at tens of microseconds rather than the milliseconds of the plain table."""
    if not a or not b:
        return 0
    where: dict[str, int] = {}
    for i, token in enumerate(a):
        where[token] = where.get(token, 0) | (1 << i)
    mask = (1 << len(a)) - 1
    row = mask
    for token in b:
        matches = row & where.get(token, 0)
        row = ((row + matches) | (row - matches)) & mask
    return len(a) - bin(row).count("1")


def _f1(overlap: int, candidate: int, reference: int) -> float:
    if overlap == 0:
        return 0.0
    precision, recall = overlap / candidate, overlap / reference
    return round(2 * precision * recall / (precision + recall), 6)


def rouge_l(candidate: str, reference: str, language: str = "prolog") -> float:
    """ROUGE-L F-measure (LCS-based) of `candidate` against `reference`, in [0, 1]."""
    cand, ref = _tokens(candidate, language), _tokens(reference, language)
    empty = _empty(cand, ref)
    return empty if empty is not None else _f1(lcs_length(cand, ref), len(cand), len(ref))


def token_f1(candidate: str, reference: str, language: str = "prolog") -> float:
    """Bag-of-tokens F1 of `candidate` against `reference`, in [0, 1]."""
    cand, ref = _tokens(candidate, language), _tokens(reference, language)
    empty = _empty(cand, ref)
    if empty is not None:
        return empty
    overlap = _overlap(Counter(cand), Counter(ref))
    return _f1(overlap, len(cand), len(ref))


METRICS = {"bleu": bleu, "rouge_l": rouge_l, "token_f1": token_f1}
