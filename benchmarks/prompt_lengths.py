"""Prompt lengths with a real tokenizer: every language, prompt style and shot count, over a dataset.

    python benchmarks/prompt_lengths.py --tokenizer ../shared/models/qwen2.5-tokenizer \\
        --dataset ../shared/data/gsm8k/train.jsonl --shots 0,1,5 --budget 256

Prints a Markdown table: min / median / max tokens of the rendered chat prompt (generation prompt
included, as TRL counts it) and how many rows a `--max_prompt_length` budget would drop.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path


def lengths(tokenizer, questions: list[str], language: str, style: str, shots: int, variant: str) -> list[int]:
    from lowres_rl.data.prompt import build_messages

    texts = [tokenizer.apply_chat_template(build_messages(q, language, variant=variant, shots=shots, style=style),
                                           add_generation_prompt=True, tokenize=False) for q in questions]
    return [len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tokenizer", required=True, help="tokenizer directory or hub id")
    parser.add_argument("--dataset", required=True, help="JSONL with a 'question' field per line")
    parser.add_argument("--lang", default="prolog,lisp,hy", help="languages, comma-separated")
    parser.add_argument("--styles", default="full,compact", help="prompt styles, comma-separated")
    parser.add_argument("--shots", default="0,1,5", help="shot counts, comma-separated")
    parser.add_argument("--variant", default="paper", help="response format (default %(default)s)")
    parser.add_argument("--budget", type=int, default=256, help="token budget to count drops against")
    args = parser.parse_args(argv)
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(args.tokenizer)
    questions = [json.loads(line)["question"] for line in Path(args.dataset).read_text().splitlines() if line.strip()]
    print(f"{len(questions)} questions from {args.dataset}; budget {args.budget} tokens\n")
    print(f"| language | style | shots | min | median | max | rows over {args.budget} |\n|---|---|---|---|---|---|---|")
    for language in args.lang.split(","):
        for style in args.styles.split(","):
            for shots in (int(s) for s in args.shots.split(",")):
                ns = lengths(tokenizer, questions, language, style, shots, args.variant)
                over = sum(n > args.budget for n in ns)
                print(f"| {language} | {style} | {shots} | {min(ns)} | {statistics.median(ns):g} | {max(ns)} | "
                      f"{over} ({100 * over / len(ns):.1f}%) |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
