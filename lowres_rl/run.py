"""Run one program (or one model completion) and print its Execution as JSON.

    python -m lowres_rl.run --lang prolog program.pl
    echo '(defun solve () (* 6 7))' | python -m lowres_rl.run --lang lisp
    python -m lowres_rl.run --lang hy --completion response.txt
    python -m lowres_rl.run --info            # languages and the sandbox isolation level

Exit code: 0 when the status is ok, 1 for any other status, 2 for bad usage.
"""
from __future__ import annotations

import argparse
import json
import sys

from lowres_rl.languages import (
    PluginError, Program, UnknownLanguageError, available_languages, get_language,
)
import lowres_rl.sandbox as sandbox
from lowres_rl.grading.formats import extract_program
from lowres_rl.settings import LIMITS, add_arguments, settings_from


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lowres_rl.run", description=__doc__.split("\n")[0])
    parser.add_argument("file", nargs="?", help="program (or completion) file; standard input when omitted")
    add_arguments(parser, ["lang"], defaults={"lang": None},
                  helps={"lang": f"language to run it in (installed: {', '.join(available_languages())})"})
    parser.add_argument("--completion", action="store_true",
                        help="the input is a whole model response: parse out <code> and <query> first")
    parser.add_argument("--query", help="query to evaluate instead of the language's default "
                        "(Prolog `solve(X)`, Lisp and Hy `(solve)`) or the completion's own")
    add_arguments(parser, LIMITS)
    parser.add_argument("--info", action="store_true",
                        help="print the installed languages and the sandbox isolation level, then exit")
    return parser


def info() -> dict:
    """The installed languages and the sandbox's isolation: its level, what it protects and what
    it does not, and why it is not stronger (see lowres_rl.sandbox.isolation)."""
    from lowres_rl.sandbox.isolation import report

    return {"languages": available_languages(), **report()}


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    if args.info:
        print(json.dumps(info(), indent=2))
        return 0
    if not args.lang:
        parser.error(f"--lang is required (one of: {', '.join(available_languages())})")
    limits = settings_from(args, parser).limits()
    try:
        language = get_language(args.lang)
    except (UnknownLanguageError, PluginError) as exc:
        parser.error(str(exc))
    try:
        text = open(args.file, encoding="utf-8").read() if args.file else sys.stdin.read()
    except OSError as exc:
        parser.error(f"cannot read {args.file}: {exc.strerror}")
    program = extract_program(text, language) if args.completion else Program(text)
    if args.query:
        program = Program(program.code, args.query, program.error)
    [execution] = sandbox.run(language, [program], limits, workers=1)
    print(json.dumps(execution.to_dict(), ensure_ascii=False, indent=2))
    sandbox.close(language)
    return 0 if execution.status == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
