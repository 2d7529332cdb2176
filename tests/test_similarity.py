"""Reference similarity: the metrics on hand-written pairs, the components in grades, GSM8K-Prolog
references joined onto rows, and the `rl4qe` preset training a tiny model for 2 GRPO steps.
`python -m pytest tests/test_similarity.py -v`"""
from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import pytest
from datasets import Dataset
from hypothesis import given, settings
from hypothesis import strategies as st
from sacrebleu.metrics import BLEU

import lowres_rl.training.main as train
from lowres_rl.data.dataset import DatasetError, build_dataset
from lowres_rl.data.references import join_references, load_references
from lowres_rl.grading.presets import PRESETS, with_similarity
from lowres_rl.grading.rewards import Grader
from lowres_rl.grading.similarity import bleu, lcs_length, rouge_l, token_f1, tokens
from lowres_rl.languages import Limits
from test_train import GSM8K_TRAIN, completions, lora_b_norm, smoke_args, tiny_model  # noqa: F401 (a fixture)

FIXTURE = Path(__file__).parent / "fixtures" / "gsm8k_prolog_sample.jsonl"
METRICS = (bleu, rouge_l, token_f1)
SIMILARITY = {"bleu", "rouge_l", "token_f1"}
PROGRAM = ":- use_module(library(clpq)).\nsolve(X) :- A = 6, B = 7, {X = A * B}.\n"


def response(code: str, query: str = "solve(X).") -> str:
    return f"<reasoning>\nSix times seven.\n</reasoning>\n<code>\n{code}\n</code>\n<query>\n{query}\n</query>\n"


# -- the metrics --------------------------------------------------------------------------------

def test_tokens_keep_code_and_drop_comments_and_layout() -> None:
    code = 'solve(X) :- /* the sum */ X is 3.5+A, % why\n  format("~w x", [X]).'
    assert tokens(code, "prolog") == ["solve", "(", "X", ")", ":-", "X", "is", "3.5", "+", "A", ",", "format",
                                      "(", '"', "~", "w", "x", '"', ",", "[", "X", "]", ")", "."]
    assert tokens("(defun solve () ; one\n #| two |# (* 6 7))", "lisp") == \
        ["(", "defun", "solve", "(", ")", "(", "*", "6", "7", ")", ")"]
    assert tokens("(setv x 1) ; note", "hy") == ["(", "setv", "x", "1", ")"]
    assert tokens("X = a ; b.", "prolog") == ["X", "=", "a", ";", "b", "."]  # % is Prolog's comment, ; is not
    assert tokens("x ; y", "scheme") == ["x"]  # the plugin's own Language.comments
    assert tokens("x ; y % z", "cobol") == ["x", ";", "y", "%", "z"]  # not installed: no comments


@pytest.mark.parametrize("metric", METRICS, ids=lambda m: m.__name__)
def test_identical_programs_score_1_and_disjoint_ones_0(metric) -> None:
    assert metric(PROGRAM, PROGRAM) == 1.0
    # layout and comments are not part of the program
    assert metric("solve(X) :- X is 6*7.", "solve( X ) :-\n    X is 6 * 7.   % forty-two") == 1.0
    assert metric("alpha beta gamma delta", "one two three four") == 0.0
    assert metric("(+ 1 2)", "(- 3 4)", "lisp") > 0.0  # the parentheses are shared


@pytest.mark.parametrize("metric", METRICS, ids=lambda m: m.__name__)
def test_empty_programs(metric) -> None:
    assert metric("", "") == 1.0
    assert metric("% only a comment", "") == 1.0  # nothing left of either
    assert metric("", PROGRAM) == 0.0 and metric(PROGRAM, "") == 0.0


def test_known_values_on_a_fixed_pair() -> None:
    """`X is A + B.` against `X is A * B.`: 6 tokens each; 1- to 4-gram matches 5/6, 3/5, 1/4 and 0/3,
    which sacrebleu's exponential smoothing makes 1/(2*3); brevity penalty 1. BLEU-4 is the
    geometric mean (5/6 * 3/5 * 1/4 * 1/6) ** (1/4) = (1/48) ** (1/4), by hand; sacrebleu's own
    sentence BLEU on the same tokens agrees. The LCS is 5 of 6 tokens: ROUGE-L 5/6, token F1 5/6."""
    candidate, reference = "X is A + B.", "X is A * B."
    assert bleu(candidate, reference) == pytest.approx((1 / 48) ** 0.25, abs=1e-6)
    library = BLEU(tokenize="none", effective_order=True).sentence_score("X is A + B .", ["X is A * B ."])
    assert bleu(candidate, reference) == pytest.approx(library.score / 100, abs=1e-6)
    assert rouge_l(candidate, reference) == pytest.approx(5 / 6, abs=1e-6)
    assert token_f1(candidate, reference) == pytest.approx(5 / 6, abs=1e-6)
    # order matters to BLEU and ROUGE-L, not to the bag of tokens
    shuffled = "B + A is X."
    assert token_f1(shuffled, reference) == pytest.approx(5 / 6, abs=1e-6)
    assert rouge_l(shuffled, reference) < 0.5 and bleu(shuffled, reference) < 0.2


def _lcs_table(a: list[str], b: list[str]) -> int:
    """The textbook dynamic programme, to check the bit-parallel one against."""
    row = [0] * (len(b) + 1)
    for x in a:
        previous, row = row, [0]
        for j, y in enumerate(b):
            row.append(previous[j] + 1 if x == y else max(previous[j + 1], row[j]))
    return row[-1]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from("abcd"), max_size=40), st.lists(st.sampled_from("abcd"), max_size=40))
def test_lcs_matches_the_textbook_table(a: list[str], b: list[str]) -> None:
    assert lcs_length(a, b) == _lcs_table(a, b)


CODE = st.text(alphabet="XAB0123 +*-=().,%\n", max_size=60)


@settings(max_examples=300, deadline=None)
@given(CODE, CODE)
def test_bleu_is_sacrebleus_sentence_bleu_on_the_same_tokens(candidate: str, reference: str) -> None:
    cand, ref = tokens(candidate), tokens(reference)
    if cand and ref:  # the empty cases are ours (see test_empty_programs)
        library = BLEU(tokenize="none", effective_order=True).sentence_score(" ".join(cand), [" ".join(ref)])
        assert bleu(candidate, reference) == pytest.approx(min(1.0, library.score / 100), abs=1e-6)


@settings(max_examples=100, deadline=None)
@given(CODE, CODE)
def test_scores_stay_between_0_and_1(candidate: str, reference: str) -> None:
    for metric in METRICS:
        score = metric(candidate, reference)
        assert 0.0 <= score <= 1.0 and not math.isnan(score)


# -- the components in the grader ---------------------------------------------------------------

def test_components_appear_with_weight_0_only_where_a_reference_is_given() -> None:
    grader = Grader(with_similarity(PRESETS["default"]), limits=Limits(timeout=2.0), workers=1)
    weights = dict(zip(grader.names, grader.weights))
    assert {weights[name] for name in SIMILARITY} == {0.0}
    code = "solve(X) :- X is 6 * 7."
    grades = grader.grade([response(code)] * 3, ["42"] * 3, "prolog",
                          references=[code + "\nsolve(X).", "solve(X) :- X is 2 * 21.", None])
    assert grades[0].scores["bleu"] == grades[0].scores["rouge_l"] == grades[0].scores["token_f1"] == 1.0
    assert 0.0 < grades[1].scores["bleu"] < 1.0
    assert not SIMILARITY & set(grades[2].scores)  # no reference: not applicable, left out
    for grade in grades:  # weight 0: the reward is the default preset's
        assert grade.correct and grade.reward == pytest.approx(grade.scores["format"] + 2 * grade.scores["correctness"])

    functions = {f.__name__: f for f in grader.reward_functions()}
    columns = {"answer": ["42", "42"], "language": ["prolog", "prolog"], "reference": [code, None]}
    values = functions["bleu"](prompts=["q", "q"], completions=[response(code)] * 2, **columns)
    assert values[0] > 0.5 and values[1] is None  # TRL reads None as "not applicable"
    assert functions["bleu"](prompts=["q"], completions=[response(code)], answer=["42"]) == [None]


def test_presets_without_references_are_unchanged() -> None:
    assert with_similarity(PRESETS["paper"]).components[:4] == PRESETS["paper"].components
    assert with_similarity(PRESETS["rl4qe"]) is PRESETS["rl4qe"]
    rl4qe = dict(zip(Grader("rl4qe").names, Grader("rl4qe").weights))
    assert rl4qe["bleu"] > 0 and rl4qe["execution"] > 0 and rl4qe["correctness"] >= rl4qe["bleu"]


def test_rl4qe_rewards_bleu_and_penalises_broken_programs() -> None:
    grader = Grader("rl4qe", limits=Limits(timeout=2.0), workers=1)
    good, broken = "solve(X) :- X is 6 * 7.", "solve(X) :- X is 6 * ."
    grades = grader.grade([response(good), response(broken)], ["42", "42"], "prolog",
                          references=[good + "\nsolve(X).", good + "\nsolve(X)."])
    assert grades[0].scores["bleu"] == 1.0 and grades[0].scores["execution"] == 0.0
    assert grades[1].status == "syntax_error" and grades[1].scores["execution"] == -1.0
    assert grades[0].reward == pytest.approx(1.0 + 1.0 + 0.5 * grades[0].scores["format"])
    assert grades[1].reward < grades[0].reward


# -- GSM8K-Prolog references --------------------------------------------------------------------

def test_references_load_from_a_local_file_and_join_by_question() -> None:
    programs = load_references(str(FIXTURE))
    assert len(programs) == 3 and all(":- use_module(library(clpq))." in p for p in programs.values())
    fixture = [json.loads(line) for line in FIXTURE.read_text().splitlines()]
    rows = Dataset.from_dict({"question": ["  " + fixture[1]["input"].replace(" ", "\n  ", 1), "Not in it?"],
                              "answer": ["#### 110", "#### 1"]})
    joined = join_references(rows, programs)
    assert joined["reference"] == [fixture[1]["output"], None]  # whitespace differences do not matter
    dataset = build_dataset(joined, ["prolog", "lisp"], reference_language="prolog")
    assert dataset["reference"] == [fixture[1]["output"], None, None, None]  # no Prolog reference for Lisp
    assert "reference" not in build_dataset(rows, ["prolog"]).column_names


def test_reference_errors_name_what_is_wrong(tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.jsonl"
    wrong.write_text(json.dumps({"question": "q", "program": "p"}) + "\n")
    with pytest.raises(DatasetError, match="'input'.*'output'"):
        load_references(str(wrong))
    with pytest.raises(DatasetError, match="no question of the dataset"):
        join_references(Dataset.from_dict({"question": ["elsewhere"], "answer": ["1"]}), load_references(str(FIXTURE)))


@pytest.mark.skipif(not GSM8K_TRAIN.exists(), reason="needs ../shared/data/gsm8k")
def test_rl4qe_trains_a_tiny_model_against_gsm8k_prolog_references(tiny_model: Path, tmp_path: Path) -> None:  # noqa: F811
    """GSM8K-Prolog's layout, written here: the first 8 GSM8K train questions (read at run time,
    never stored) each paired with one of the fixture's hand-written programs."""
    questions = [json.loads(line)["question"] for line in GSM8K_TRAIN.read_text().splitlines()[:8]]
    programs = [json.loads(line)["output"] for line in FIXTURE.read_text().splitlines()]
    references = tmp_path / "gsm_prolog_train.jsonl"
    references.write_text("".join(json.dumps({"instruction": "", "input": q, "output": programs[i % 3]}) + "\n"
                                  for i, q in enumerate(questions)))
    output = tmp_path / "run"
    args = smoke_args(tiny_model, output, "prolog") + ["--reward_preset", "rl4qe", "--reference_dataset", str(references)]
    assert train.main(args) == 0
    assert lora_b_norm(output) > 0
    rows = completions(output)
    assert len(rows) == 16 and all(0.0 <= r["bleu"] <= 1.0 and "execution" in r for r in rows)
    assert all(r["reward"] == pytest.approx(r["bleu"] + 0.5 * r["execution"] + r["correctness"] + 0.5 * r["format"])
               for r in rows)


@pytest.mark.skipif(not GSM8K_TRAIN.exists(), reason="needs ../shared/data/gsm8k")
def test_rl4qe_without_references_is_refused(tiny_model: Path, tmp_path: Path, capsys) -> None:  # noqa: F811
    assert train.main(smoke_args(tiny_model, tmp_path, "prolog") + ["--reward_preset", "rl4qe"]) == 2
    assert "--reference_dataset" in capsys.readouterr().err


def test_the_throughput_benchmark_runs(capsys) -> None:
    """benchmarks/similarity_throughput.py --quick: it grades with similarity on and prints the ratio."""
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "similarity_throughput.py"
    spec = importlib.util.spec_from_file_location("benchmarks_similarity_throughput", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)  # type: ignore[union-attr]
    results = bench.main(["--quick"])
    assert results["prolog"]["on"] > 0 and 0.0 < results["prolog"]["bleu"] <= 1.0
    assert "on/off time ratio" in capsys.readouterr().out
