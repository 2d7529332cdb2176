"""The shared run settings (lowres_rl.settings): one declaration, the same flags and help on train
and evaluate, both spellings accepted, bad values refused with a message naming the flag.

    python -m pytest tests/test_settings.py -q
"""
from __future__ import annotations

import argparse
import dataclasses

import pytest

import lowres_rl.evaluation.main as evaluate
import lowres_rl.grade as grade
import lowres_rl.run as run
import lowres_rl.training.main as train
from lowres_rl.grading.formats import FORMATS
from lowres_rl.languages import Limits
from lowres_rl.settings import SHARED, RunSettings, add_arguments, settings_from, spellings


def _flags(parser: argparse.ArgumentParser) -> dict[str, str]:
    """option string -> destination, for every flag of the parser."""
    return {option: action.dest for action in parser._actions for option in action.option_strings}


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_every_shared_setting_has_the_same_flags_and_help_on_train_and_evaluate(monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "100000")  # no wrapping: a help text is one line in --help
    parsers = {"train": train.make_parser(), "evaluate": evaluate.make_parser()}
    fields = {f.name: f for f in dataclasses.fields(RunSettings)}
    for name in SHARED:
        options = spellings(name, fields[name].metadata.get("aliases", ()))
        assert f"--{name}" in options and (("_" not in name) or f"--{name.replace('_', '-')}" in options)
        help_text = _flat(fields[name].metadata["help"] % {})
        for command, parser in parsers.items():
            flags = _flags(parser)
            for option in options:
                assert flags.get(option) == name, (command, option)
            assert help_text in _flat(parser.format_help()), (command, name)


def test_both_spellings_and_the_model_alias_parse_the_same_on_both_commands() -> None:
    argv = ["--bare-prompt", "--prompt-style", "compact", "--memory-mb", "512", "--split", "test",
            "--model", "some/model", "--output_dir", "out"]
    script, _, model = train.make_parser().parse_args_and_config(argv)
    args = evaluate.make_parser().parse_args(argv)
    settings = settings_from(args)
    for ours in (script, settings):
        assert (ours.bare_prompt, ours.prompt_style, ours.memory_mb, ours.dataset_split) == (True, "compact", 512, "test")
    assert model.model_name_or_path == args.model_name_or_path == "some/model"
    underscored = evaluate.make_parser().parse_args(["--bare_prompt", "false", "--memory_mb", "512"])
    assert (underscored.bare_prompt, underscored.memory_mb) == (False, 512)


def test_evaluate_reads_the_test_split_and_train_the_train_split() -> None:
    assert settings_from(evaluate.make_parser().parse_args([])).dataset_split == "test"
    assert train.make_parser().parse_args_and_config([])[0].dataset_split == "train"


def test_limits_come_from_the_settings() -> None:
    settings = RunSettings(timeout=2.5, memory_mb=256, steps=10, inferences=20)
    assert settings.limits() == Limits(timeout=2.5, memory_mb=256, steps=10, inferences=20)
    assert RunSettings().limits() == Limits()
    assert RunSettings(lang=" prolog, hy ,").languages == ["prolog", "hy"]


@pytest.mark.parametrize("values, message", [
    ({"variant": "essay"}, "--variant must be one of paper, answer; got 'essay'"),
    ({"prompt_style": "long"}, "--prompt_style must be one of full, compact; got 'long'"),
    ({"reward_preset": "best"}, "--reward_preset must be one of"),
    ({"shots": 6}, "--shots must be between 0 and 5, got 6"),
    ({"memory_mb": 0}, "--memory_mb must be positive, got 0"),
    ({"timeout": -1.0}, "--timeout must be positive, got -1.0"),
    ({"limit": 0}, "--limit must be a positive integer (or left out), got 0"),
    ({"workers": 0}, "--workers must be a positive integer (or left out), got 0"),
])
def test_a_bad_value_names_the_flag_and_what_would_be_right(values, message) -> None:
    with pytest.raises(ValueError) as error:
        RunSettings(**values)
    assert message in str(error.value)


def test_the_variant_choices_are_the_response_formats() -> None:
    variant = next(f for f in dataclasses.fields(RunSettings) if f.name == "variant")
    assert variant.metadata["choices"] == list(FORMATS)
    for parser in (evaluate.make_parser(), grade.make_parser()):
        [action] = [a for a in parser._actions if a.dest == "variant"]
        assert list(action.choices) == list(FORMATS)


@pytest.mark.parametrize("make_parser, argv", [
    (run.make_parser, ["--lang", "prolog", "--memory_mb", "0"]),
    (grade.make_parser, ["--input", "x.jsonl", "--memory-mb", "0"]),
    (evaluate.make_parser, ["--memory_mb", "0"]),
])
def test_argparse_commands_refuse_a_bad_setting_as_usage(make_parser, argv, capsys) -> None:
    parser = make_parser()
    with pytest.raises(SystemExit) as exit_:
        settings_from(parser.parse_args(argv), parser)
    assert exit_.value.code == 2
    assert "--memory_mb must be positive, got 0" in capsys.readouterr().err


def test_add_arguments_types_and_booleans() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser, ["limit", "timeout", "bare_prompt", "workers"], defaults={"workers": 2})
    args = parser.parse_args(["--limit", "3", "--timeout", "0.5", "--bare_prompt", "yes"])
    assert (args.limit, args.timeout, args.bare_prompt, args.workers) == (3, 0.5, True, 2)
    assert parser.parse_args([]).bare_prompt is False
    with pytest.raises(SystemExit):
        parser.parse_args(["--bare_prompt", "maybe"])
