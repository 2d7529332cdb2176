"""Run the conformance kit (lowres_rl.testing) against a language and print the report.

    python -m lowres_rl.check scheme
    python -m lowres_rl.check prolog --timeout 1 --workers 4
    python -m lowres_rl.check hy --no_prompt

Samples come from lowres_rl.testing.BUILTIN_SAMPLES or the plugin's `lowres_rl.samples` entry point.
Exit code: 0 when every check passes, 1 when one fails (or the plugin does not load), 2 for bad
usage (unknown language, no samples).
"""
from __future__ import annotations

import argparse
import logging
import sys

from lowres_rl.languages import PluginError, UnknownLanguageError, available_languages, get_language
from lowres_rl.settings import add_arguments, settings_from, spellings
from lowres_rl.testing.kit import SamplesError, check_language, find_samples


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lowres_rl.check", description=__doc__.split("\n")[0])
    parser.add_argument("lang", help=f"language to check (installed: {', '.join(available_languages())})")
    add_arguments(parser, ["timeout", "workers"], defaults={"workers": 2},
                  helps={"workers": "sandbox workers for the batch checks"})
    parser.add_argument(*spellings("no_prompt"), action="store_true", help="skip the prompt-file check")
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    parser = make_parser()
    args = parser.parse_args(argv)
    settings = settings_from(args, parser)
    try:
        language = get_language(args.lang)
    except UnknownLanguageError as exc:
        parser.error(str(exc))
    except PluginError as exc:
        print(f"FAIL  language plugin {args.lang!r} does not load: {exc}", file=sys.stderr)
        return 1
    try:
        samples = find_samples(args.lang)
    except SamplesError as exc:
        parser.error(str(exc))
    report = check_language(language, samples, settings.limits(), workers=settings.workers,
                            prompt=not args.no_prompt)
    print(report)
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
