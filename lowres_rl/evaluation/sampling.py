"""Decoding settings from evaluate's flags: greedy, sampled, or the paper's protocol.

    sampling = resolve_sampling(args)   # args: the namespace of lowres_rl.evaluation.main's parser

`--protocol paper` fixes PAPER (4 samples, temperature 0.1, top-p 0.95, top-k 50, 1024 new tokens)
and refuses a flag that asks for something else rather than silently overriding it.
"""
from __future__ import annotations

import argparse

import lowres_rl.training.checks as checks
from lowres_rl.evaluation.generation import Sampling

PAPER = dict(samples=4, temperature=0.1, top_p=0.95, top_k=50, max_new_tokens=1024)
DEFAULT_MAX_NEW_TOKENS = 1024
DEFAULT_SAMPLING_TEMPERATURE = 0.8  # when --samples/--tries ask for several samples and no --temperature


def resolve_sampling(args: argparse.Namespace) -> Sampling:
    """The decoding settings the flags and protocol ask for; SetupError for clashing flags."""
    if args.protocol == "paper":
        clashes = [f"--{name} {getattr(args, name)}" for name, value in PAPER.items()
                   if getattr(args, name) is not None and getattr(args, name) != value]
        if clashes:
            raise checks.SetupError(f"--protocol paper fixes {', '.join(f'{k}={v}' for k, v in PAPER.items())}; "
                                    f"drop {', '.join(clashes)} or use --protocol standard")
        if args.tries and args.tries > PAPER["samples"]:
            raise checks.SetupError(f"--protocol paper draws {PAPER['samples']} samples; --tries {args.tries} "
                                    f"needs more (use at most {PAPER['samples']}, or --protocol standard)")
        return Sampling(n=PAPER["samples"], temperature=PAPER["temperature"], top_p=PAPER["top_p"],
                        top_k=PAPER["top_k"], max_new_tokens=PAPER["max_new_tokens"], seed=args.seed)
    n = max(args.samples or 1, args.tries or 1)
    temperature = args.temperature if args.temperature is not None else (
        DEFAULT_SAMPLING_TEMPERATURE if n > 1 else 0.0)
    try:
        return Sampling(n=n, temperature=temperature, top_p=1.0 if args.top_p is None else args.top_p,
                        top_k=args.top_k, max_new_tokens=args.max_new_tokens or DEFAULT_MAX_NEW_TOKENS,
                        seed=args.seed)
    except ValueError as exc:
        raise checks.SetupError(f"decoding flags: {exc}") from None
