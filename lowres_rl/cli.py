"""The `lowres-rl` command: one entry point for every tool.

    lowres-rl run --lang prolog program.pl
    lowres-rl grade --input completions.jsonl
    lowres-rl train --lang prolog
    lowres-rl evaluate --lang prolog,lisp,hy --model M
    lowres-rl check scheme
    lowres-rl tiny outputs/tiny
    lowres-rl demo

Each subcommand is a module (`python -m lowres_rl.<name>` works the same; `tiny` is
lowres_rl.offline.tiny).
The flags several of them share (data, prompt, limits, workers) are declared once, in
lowres_rl.settings.
"""
from __future__ import annotations

import importlib
import sys

COMMANDS = {
    "run": "run one program or completion, print JSON",
    "grade": "grade a JSONL file of completions",
    "train": "GRPO training with TRL and LoRA",
    "evaluate": "reasoning accuracy per language",
    "check": "conformance kit for a language plugin",
    "tiny": "build a tiny offline model and tokenizer",
    "demo": "offline demo: GRPO teaching a tiny model",
    "predict": "run-free outcome predictor: train, eval",
}
MODULES = {"tiny": "lowres_rl.offline.tiny"}  # commands whose module is not a top-level entry


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help") or args[0] not in COMMANDS:
        if args and args[0] not in ("-h", "--help"):
            print(f"lowres-rl: unknown command {args[0]!r}", file=sys.stderr)
        listing = "\n".join(f"  {name:<9} {about}" for name, about in COMMANDS.items())
        print(f"usage: lowres-rl COMMAND [ARGS]\n\ncommands:\n{listing}\n\n"
              f"`lowres-rl COMMAND --help` explains each command's flags.")
        return 0 if args and args[0] in ("-h", "--help") else 2
    module = importlib.import_module(MODULES.get(args[0], f"lowres_rl.{args[0]}"))
    return int(module.main(args[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main())
