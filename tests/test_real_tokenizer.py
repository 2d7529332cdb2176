"""The real Qwen2.5 tokenizer (shared/models/qwen2.5-tokenizer, rebuilt offline; see its README):
chat template rendering of our prompts, prompt lengths of every style, variant and shot count, the
recipes' prompt budgets, stopping at <|im_end|>, and completions holding a literal <|endoftext|>.
Skipped when the tokenizer is absent. `python -m pytest tests/test_real_tokenizer.py -v`"""
from __future__ import annotations

import json
import os
import statistics
from pathlib import Path

import pytest
from shared_paths import shared_path

from lowres_rl.data.prompt import STYLES, build_messages, prompt_token_ids
from lowres_rl.grading.formats import FORMATS

QWEN = next((Path(p) for p in [os.environ.get("LOWRES_QWEN_TOKENIZER")] if p and Path(p).is_dir()),
            shared_path("models", "qwen2.5-tokenizer"))
GSM8K_TEST = shared_path("data", "gsm8k", "test.jsonl")
PAPER_COMPLETIONS = shared_path("data", "paper-completions", "completions.jsonl")
RECIPES = sorted((Path(__file__).resolve().parents[1] / "examples" / "recipes").glob("*.yaml"))
LANGUAGES = ("prolog", "lisp", "hy")
IM_START, IM_END, ENDOFTEXT = 151644, 151645, 151643

pytestmark = pytest.mark.skipif(QWEN is None or GSM8K_TEST is None,
                                reason="the real Qwen2.5 tokenizer or GSM8K is not in shared/ beside the repository")


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(QWEN))


@pytest.fixture(scope="module")
def questions() -> list[str]:
    """The GSM8K test questions (1,319): enough to see the long tail of prompt lengths."""
    return [json.loads(line)["question"] for line in GSM8K_TEST.read_text().splitlines() if line.strip()]


def lengths(tokenizer, questions, language, style="full", variant="paper", shots=0) -> list[int]:
    """Prompt tokens per question. The template is rendered once around a placeholder question
    (the template copies content verbatim: test_chat_template_renders_our_prompts_exactly), which
    keeps thousands of prompts to seconds; tokenising is batched."""
    marker = "\x00QUESTION\x00"
    text = tokenizer.apply_chat_template(build_messages(marker, language, variant, shots, style=style),
                                         add_generation_prompt=True, tokenize=False)
    texts = [text.replace(marker, q) for q in questions]
    return [len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]]


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("language", LANGUAGES)
def test_chat_template_renders_our_prompts_exactly(tokenizer, language: str, style: str) -> None:
    messages = build_messages("What is 2 + 3?", language, shots=1, style=style)
    text = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    turns = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
    assert text == turns + "<|im_start|>assistant\n"
    ids = prompt_token_ids(tokenizer, messages)
    assert ids[0] == IM_START and ids.count(IM_END) == len(messages) and ids.count(IM_START) == len(messages) + 1
    assert tokenizer.decode(ids) == text  # the prompt's text survives the round trip
    assert len(ids) == lengths(tokenizer, ["What is 2 + 3?"], language, style, shots=1)[0]


def test_a_prompt_without_system_turn_gets_qwens_default(tokenizer) -> None:
    """--bare_prompt on a real Qwen model is not bare: the template adds its own system turn."""
    text = tokenizer.apply_chat_template(build_messages("2 + 3?", "prolog", system=False),
                                         add_generation_prompt=True, tokenize=False)
    assert text.startswith("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud.")


@pytest.mark.parametrize("variant", list(FORMATS))
@pytest.mark.parametrize("language", LANGUAGES)
def test_prompt_lengths_of_every_style_and_shot_count(tokenizer, questions, language: str, variant: str) -> None:
    """Compact at 0 shots is the paper's budget (median well under 256, at most 1% over it); each
    shot adds tokens; full is always longer than compact."""
    sample = questions[:40]  # five-shot full prompts are ~2,000 tokens: a few dozen show the order
    zero_shot = {}
    for style in STYLES:
        by_shots = [lengths(tokenizer, sample, language, style, variant, shots) for shots in range(6)]
        for fewer, more in zip(by_shots, by_shots[1:]):
            assert all(a < b for a, b in zip(fewer, more))
        zero_shot[style] = by_shots[0]
    assert all(c + 300 < f for c, f in zip(zero_shot["compact"], zero_shot["full"]))
    compact = lengths(tokenizer, questions, language, "compact", variant)  # every test question: the tail
    assert statistics.median(compact) <= 185 and sum(n > 256 for n in compact) <= len(compact) // 100


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: p.stem)
def test_every_recipe_keeps_all_but_one_percent_of_its_rows(tokenizer, questions, recipe: Path) -> None:
    from lowres_rl.training.main import make_parser

    script, _, _ = make_parser().parse_args_and_config(["--config", str(recipe), "--bf16", "false",
                                                        "--use_vllm", "false"])
    budget = script.max_prompt_length
    if script.bare_prompt or budget is None:
        pytest.skip(f"{recipe.stem} sets no prompt budget")
    for language in script.languages:
        ns = lengths(tokenizer, questions, language, script.prompt_style, script.variant, script.shots)
        assert sum(n > budget for n in ns) <= len(ns) // 100, (language, budget, max(ns))


@pytest.fixture(scope="module")
def generator(tokenizer):
    """The HF backend on a random two-layer model with Qwen's vocabulary (no weights needed)."""
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from lowres_rl.evaluation.generation import HFGenerator

    model = Qwen2ForCausalLM(Qwen2Config(vocab_size=151936, hidden_size=16, intermediate_size=32,
                                         num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1,
                                         eos_token_id=IM_END, tie_word_embeddings=True))
    return HFGenerator(model, tokenizer)


def test_completion_stops_at_im_end(tokenizer, generator) -> None:
    import torch

    response = "<reasoning>\n2 + 3 = 5\n</reasoning>\n<code>\nsolve(X) :- X is 2 + 3.\n</code>\n<query>\nsolve(X).\n</query>"
    ids = tokenizer(response + "<|im_end|>\n<|im_start|>user\nmore<|im_end|>", add_special_tokens=False)["input_ids"]
    assert IM_END in ids and IM_END in generator.stop_ids
    out = generator._completion(torch.tensor(ids))
    assert out.text == response and out.tokens == ids.index(IM_END)


def test_completion_stops_at_a_generated_endoftext(tokenizer, generator) -> None:
    """A base model ends a document with <|endoftext|> (id 151643, Qwen's pad); what follows is a
    made-up next turn, never part of the answer."""
    import torch

    ids = tokenizer("<query>\nsolve(X).\n</query>\n<|endoftext|>Human: explain", add_special_tokens=False)["input_ids"]
    assert ids.count(ENDOFTEXT) == 1 and ENDOFTEXT in generator.stop_ids
    out = generator._completion(torch.tensor(ids))
    assert out.text == "<query>\nsolve(X).\n</query>\n" and "Human" not in out.text


@pytest.mark.skipif(PAPER_COMPLETIONS is None, reason="shared/data/paper-completions is absent")
def test_completions_with_a_literal_endoftext_are_counted_and_graded(tmp_path: Path) -> None:
    """125 of the paper's 520 completions hold the text <|endoftext|>: the tokenizer reads it as one
    special token (not seven pieces of text), and the grader scores the program before it."""
    import lowres_rl.evaluation.main as evaluate

    rows = [json.loads(line) for line in PAPER_COMPLETIONS.read_text().splitlines()]
    chosen = [r for r in rows if "<|endoftext|>" in r["completion"]][:4]
    path = tmp_path / "completions.jsonl"
    path.write_text("".join(json.dumps({"completion": r["completion"], "answer": r["answer"],
                                        "question": r["question"]}) + "\n" for r in chosen))
    assert evaluate.main(["--completions", str(path), "--lang", "prolog", "--model", str(QWEN),
                          "--workers", "1", "--output_dir", str(tmp_path / "out")]) == 0
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    samples = [s for p in results["problems"]["prolog"] for s in p["samples"]]
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(QWEN))
    for row, sample in zip(chosen, samples):
        ids = tokenizer(row["completion"], add_special_tokens=False)["input_ids"]
        assert ids.count(ENDOFTEXT) == row["completion"].count("<|endoftext|>") >= 1
        assert sample["tokens"] == len(ids)
        assert sample["status"] in ("ok", "no_answer", "runtime_error", "syntax_error", "timeout")
