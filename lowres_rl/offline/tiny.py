"""A tiny Qwen2-architecture model and tokenizer, built offline, for tests and smoke runs.

    python -m lowres_rl.offline.tiny outputs/tiny            # then: --model_name_or_path outputs/tiny
    python -m lowres_rl.offline.tiny outputs/tiny --warm_start_steps 300   # knows the response format

The tokenizer is a byte-level BPE trained in-process on synthetic word problems, their reference
programs in every built-in language and the prompt files, with Qwen's chat tokens and a Qwen-style
chat template. Both are saved with `save_pretrained`, so they load through the very same path as
a real Qwen2.5-Coder model. A random model never writes a tagged program, so every completion
scores alike and GRPO has nothing to learn from; `--warm_start_steps` first fine-tunes it on
synthetic problems (lowres_rl.offline.warmup) so that it sometimes does.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from lowres_rl.settings import spellings

if TYPE_CHECKING:
    from lowres_rl.offline.synthetic import Problem

CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
# Qwen2's pre-tokenizer split (digits one by one): transformers loads any tokenizer saved next to a
# Qwen2 config as a Qwen2Tokenizer with this split, so the BPE is trained under it too.
QWEN_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
              r"|\s*[\r\n]+|\s+(?!\S)|\s+")


def corpus(n_problems: int = 400) -> list[str]:
    """Text to train the tokenizer on: synthetic problems, programs, tags and prompt files."""
    from lowres_rl.languages import available_languages, get_language
    from lowres_rl.offline.synthetic import generate

    texts = []
    for problem in generate(n_problems, seed=1234):
        texts.append(problem.question)
        texts.extend(problem.solutions.values())
    for name in available_languages():
        try:
            texts.append(get_language(name).prompt_file().read_text(encoding="utf-8"))
        except Exception:  # noqa: BLE001 - a plugin without a prompt adds nothing
            continue
    texts.append("<reasoning>\n</reasoning>\n<code>\n</code>\n<query>\n</query>\n<answer>\n</answer>")
    return texts


def build_tokenizer(vocab_size: int = 1024):
    """A PreTrainedTokenizerFast with a ByteLevel BPE trained on `corpus()`."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN_SPLIT), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(corpus(), trainer=trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                   chat_template=CHAT_TEMPLATE)


def build_model(vocab_size: int, hidden_size: int = 32, layers: int = 2, seed: int = 0):
    """A randomly initialised Qwen2ForCausalLM with tiny sizes."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(seed)
    config = Qwen2Config(vocab_size=vocab_size, hidden_size=hidden_size, intermediate_size=2 * hidden_size,
                         num_hidden_layers=layers, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=4096, tie_word_embeddings=True)
    return Qwen2ForCausalLM(config)


WARM_REASONING = "The program computes the answer from the numbers."
WARM_LANGUAGES = ("prolog", "lisp", "hy")  # the languages lowres_rl.offline.synthetic writes solutions in


def build_tiny(output_dir: str | Path, hidden_size: int = 32, layers: int = 2, vocab_size: int = 1024,
               seed: int = 0, warm_start_steps: int = 0, warm_languages: Sequence[str] = WARM_LANGUAGES,
               warm_problems: int | Sequence[Problem] = 120, warm_mistake_rate: float = 0.0) -> Path:
    """Build and save a tiny model and tokenizer to `output_dir`; returns the path. The warm start
    (if any) runs on `warm_problems` (the problems, or how many to generate from `seed`), with
    `warm_mistake_rate` of slipped programs (see lowres_rl.offline.warmup.synthetic_pairs)."""
    from transformers import AutoTokenizer

    output = Path(output_dir)
    tokenizer = build_tokenizer(vocab_size)
    model = build_model(len(tokenizer), hidden_size, layers, seed)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    tokenizer.save_pretrained(output)
    model.save_pretrained(output)
    if warm_start_steps:  # with the tokenizer as every later user loads it
        _warm(model, AutoTokenizer.from_pretrained(output), warm_start_steps, seed, warm_languages, warm_problems,
              warm_mistake_rate)
        model.save_pretrained(output)
    return output


def _warm(model, tokenizer, steps: int, seed: int, languages: Sequence[str], problems: int | Sequence[Problem],
          mistake_rate: float) -> None:
    """Supervised steps on synthetic problems, with a bare prompt (the question alone) and a fixed
    one-line reasoning, so responses stay short."""
    from lowres_rl.offline.synthetic import generate
    from lowres_rl.offline.warmup import synthetic_pairs, warm_start

    if isinstance(problems, int):
        problems = generate(problems, seed=seed * 1000 + 1)
    pairs = synthetic_pairs(problems, languages,
                            messages=lambda question, lang: [{"role": "user", "content": question}],
                            reasoning=WARM_REASONING, mistake_rate=mistake_rate, seed=seed)
    warm_start(model, tokenizer, pairs, steps=steps, seed=seed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lowres_rl.offline.tiny", description=__doc__.split("\n")[0])
    parser.add_argument("output_dir", help="directory to save the model and tokenizer in")
    parser.add_argument(*spellings("hidden_size"), type=int, default=32, help="hidden size (default %(default)s)")
    parser.add_argument("--layers", type=int, default=2, help="transformer layers (default %(default)s)")
    parser.add_argument(*spellings("vocab_size"), type=int, default=1024, help="BPE vocabulary size (default %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="initialisation seed (default %(default)s)")
    parser.add_argument(*spellings("warm_start_steps"), type=int, default=0,
                        help="supervised steps on synthetic problems before saving (default %(default)s: none)")
    args = parser.parse_args(argv)
    if min(args.hidden_size, args.layers, args.vocab_size) <= 0 or args.warm_start_steps < 0:
        parser.error("--hidden_size, --layers and --vocab_size must be positive, --warm_start_steps >= 0")
    path = build_tiny(args.output_dir, args.hidden_size, args.layers, args.vocab_size, args.seed,
                      args.warm_start_steps)
    print(f"tiny model and tokenizer saved to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
