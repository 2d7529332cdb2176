"""The run settings train, evaluate, grade, run and check share, declared once.

    settings = RunSettings(lang="prolog,lisp", shots=2)
    settings.limits()                       # the sandbox's Limits for each program
    add_arguments(parser, [*DATA, *PROMPT])  # argparse flags from the fields below
    settings = settings_from(args, parser)  # back to a validated RunSettings (parser.error if not)

train hands RunSettings (through TrainScriptArguments, its subclass) to TRL's TrlParser, which
turns each field into a flag; the other commands build their argparse flags from the same fields
with add_arguments, so a setting has one name, one default and one help text everywhere. Flags are
spelled as TRL spells them, `--bare_prompt`, and accept `--bare-prompt` too (HfArgumentParser
registers both; add_arguments does the same). A boolean takes an optional value, as in TRL:
`--bare_prompt`, `--bare_prompt true`, `--bare_prompt false`.

Layer: above grading and data (it names their choices), below training and evaluation.
"""
from __future__ import annotations

import argparse
import dataclasses
import typing
from dataclasses import dataclass, field
from typing import Any, Iterable

from lowres_rl.data.prompt import STYLES
from lowres_rl.grading.presets import PRESETS
from lowres_rl.grading.formats import FORMATS
from lowres_rl.languages.contract import Limits

VARIANTS = tuple(FORMATS)  # the one place the response-variant choices come from

DATA = ("dataset", "dataset_config", "dataset_split", "question_column", "answer_column", "limit",
        "reference_column", "reference_dataset", "reference_language")
PROMPT = ("variant", "shots", "prompt_style", "bare_prompt")
LIMITS = ("timeout", "memory_mb", "steps", "inferences")
SHARED = ("lang", *DATA, *PROMPT, *LIMITS, "workers")  # what train and evaluate both take


@dataclass
class RunSettings:
    """What a run reads (data), asks (languages, prompt) and allows each program (limits, workers)."""

    lang: str = field(default="prolog", metadata={"help": "Language(s), comma-separated (e.g. 'prolog' or "
                      "'prolog,lisp,hy'); each question is asked once per language."})
    dataset: str = field(default="openai/gsm8k", metadata={"help": "Hub dataset id, or a local "
                         ".jsonl/.parquet/.csv file or directory holding <split>*.jsonl files."})
    dataset_config: str | None = field(default="main", metadata={"help": "Hub dataset config name."})
    dataset_split: str = field(default="train", metadata={"aliases": ["--split"], "help": "Dataset split "
                               "(or file prefix); train reads 'train', evaluate 'test'."})
    question_column: str = field(default="question", metadata={"help": "Column holding the question."})
    answer_column: str = field(default="answer", metadata={"help": "Column holding the gold answer "
                               "('... #### 18' or a bare number)."})
    limit: int | None = field(default=None, metadata={"help": "Use only the first N rows (default: all)."})
    reference_column: str = field(default="reference", metadata={"help": "Column holding a reference "
                                  "program per row, if the dataset has one: the bleu, rouge_l and token_f1 reward "
                                  "components (weight 0 unless the preset or --reward_weights weighs them) compare "
                                  "each completion's program with it; rows without one score None there. Evaluate reports "
                                  "their means per language."})
    reference_dataset: str | None = field(default=None, metadata={"help": "GSM8K-Prolog as the references: "
                                          "its hub id (Thomas-X-Yang/gsm8k-prolog) or a local copy of its "
                                          "gsm_prolog_<split>.jsonl; its 'output' programs become --reference_column, "
                                          "matched to the dataset's rows by question text. Needs sacrebleu "
                                          "(pip install 'lowres-rl[research]')."})
    reference_language: str | None = field(default=None, metadata={"help": "Language the reference programs "
                                           "are written in: rows of other languages get none. Default: every "
                                           "language, or prolog with --reference_dataset."})
    variant: str = field(default="paper", metadata={"choices": list(VARIANTS), "help": "Response format: "
                         "'paper' (<reasoning><code><query>) or 'answer' (<reasoning><answer>, solve entry)."})
    shots: int = field(default=0, metadata={"help": "Worked examples in the prompt: 0 to 5."})
    prompt_style: str = field(default="full", metadata={"choices": list(STYLES), "help": "System prompt: "
                              "'full' (format rules, the language's conventions; GSM8K prompts of 515-998 tokens "
                              "with Qwen's tokenizer) or 'compact' (the paper's budget: about 100 tokens of system "
                              "prompt, so 99.5%% of GSM8K prompts fit 256 tokens at 0 shots). Same response format; "
                              "evaluate with the style the model was trained with."})
    bare_prompt: bool = field(default=False, metadata={"help": "Ask the question alone, without the "
                              "system prompt (only for tiny offline models warm-started that way, e.g. "
                              "`python -m lowres_rl.offline.tiny DIR --warm_start_steps 300`; real models need "
                              "the prompt)."})
    reward_preset: str = field(default="default", metadata={"choices": sorted(PRESETS), "help": "Reward "
                               "components and weights: 'default' (ours), 'paper', or 'rl4qe' (BLEU-4 against a reference "
                               "program plus execution penalties; needs references, e.g. train's --reference_dataset). "
                               "GRPOConfig's --reward_weights overrides the weights in training."})
    timeout: float = field(default=Limits.timeout, metadata={"help": "Wall-clock seconds per program."})
    memory_mb: int = field(default=Limits.memory_mb, metadata={"help": "Interpreter heap per program, MB."})
    steps: int = field(default=Limits.steps, metadata={"help": "Lisp and Hy work budget per program: loop "
                       "iterations plus function calls; past it the program is a timeout, stopped without a kill."})
    inferences: int = field(default=Limits.inferences, metadata={"help": "Prolog work budget per program: "
                            "inferences; past it the program is a timeout, stopped without a kill."})
    workers: int | None = field(default=None, metadata={"help": "Sandbox workers per language (default: this "
                                "process's share of the CPUs it may use: affinity and cgroup quota, over "
                                "LOCAL_WORLD_SIZE)."})

    def __post_init__(self) -> None:
        for name, choices in (("variant", VARIANTS), ("prompt_style", STYLES), ("reward_preset", sorted(PRESETS))):
            if getattr(self, name) not in choices:
                raise ValueError(f"--{name} must be one of {', '.join(choices)}; got {getattr(self, name)!r}")
        if not 0 <= self.shots <= 5:
            raise ValueError(f"--shots must be between 0 and 5, got {self.shots}")
        for name in LIMITS:
            if not getattr(self, name) > 0:
                raise ValueError(f"--{name} must be positive, got {getattr(self, name)!r}")
        for name in ("limit", "workers"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise ValueError(f"--{name} must be a positive integer (or left out), got {getattr(self, name)}")

    @property
    def languages(self) -> list[str]:
        """--lang as a list of names (that they are installed, and that there is one, is checked at
        start-up by lowres_rl.training.checks.languages, which lists the installed ones)."""
        return [name.strip() for name in str(self.lang).split(",") if name.strip()]

    @property
    def references_in(self) -> str | None:
        """The language of the reference programs, whose rows alone get them: --reference_language,
        else prolog with --reference_dataset (GSM8K-Prolog); None: every language's rows."""
        return self.reference_language or ("prolog" if self.reference_dataset else None)

    def rows(self) -> Any:
        """The dataset rows these settings name: --dataset's split with --reference_dataset's
        programs joined in, cut to --limit (a DatasetError says what is wrong). Loaded lazily:
        `datasets` is not imported by the commands that never read a dataset."""
        from lowres_rl.data.dataset import load_rows
        from lowres_rl.data.references import join_references, load_references

        rows = load_rows(self.dataset, self.dataset_config, self.dataset_split)
        if self.reference_dataset:
            rows = join_references(rows, load_references(self.reference_dataset, self.dataset_split),
                                   self.question_column, self.reference_column)
        return rows.select(range(min(self.limit, len(rows)))) if self.limit else rows

    def limits(self) -> Limits:
        """The per-program Limits these settings ask for."""
        return Limits(timeout=self.timeout, memory_mb=self.memory_mb, steps=self.steps, inferences=self.inferences)


# -- argparse flags from dataclass fields ------------------------------------------------------

def spellings(name: str, aliases: Iterable[str] = ()) -> list[str]:
    """`--name`, `--name-with-hyphens` and any aliases: the option strings HfArgumentParser gives a field."""
    options = [f"--{name}"] + ([f"--{name.replace('_', '-')}"] if "_" in name else [])
    return options + [a for a in aliases if a not in options]


def to_bool(text: str | bool) -> bool:
    """A boolean flag's value, as HfArgumentParser reads it (`true`/`false`, `yes`/`no`, `1`/`0`)."""
    if isinstance(text, bool):
        return text
    if text.lower() in ("yes", "true", "t", "y", "1"):
        return True
    if text.lower() in ("no", "false", "f", "n", "0"):
        return False
    raise argparse.ArgumentTypeError(f"expected a boolean (true or false), got {text!r}")


def add_arguments(parser: argparse.ArgumentParser | argparse._ArgumentGroup, names: Iterable[str],
                  cls: type = RunSettings, defaults: dict[str, Any] | None = None,
                  helps: dict[str, str] | None = None) -> None:
    """One argparse flag per named field of `cls`, typed, with the field's help and choices;
    `defaults` and `helps` adjust them for one command (e.g. evaluate reads the 'test' split)."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    for name in names:
        meta = dict(fields[name].metadata)
        default = (defaults or {}).get(name, fields[name].default)
        text = meta.pop("help")
        text = (helps or {}).get(name, text)
        if default is not None and "%(default)" not in text:
            text += " (default: %(default)s)"
        kind = _plain(hints[name])
        if kind is bool:
            meta.update(type=to_bool, nargs="?", const=True, metavar="{true,false}")
        else:
            meta["type"] = kind
        parser.add_argument(*spellings(name, meta.pop("aliases", ())), dest=name, default=default, help=text, **meta)


def _plain(hint: Any) -> type:
    """int for `int | None`: the type an argument converts to."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    return args[0] if args else hint


def settings_from(args: argparse.Namespace, parser: argparse.ArgumentParser | None = None) -> RunSettings:
    """The RunSettings of the parsed flags (fields without a flag keep their defaults). A bad value
    is parser.error (usage and exit 2) when a parser is given, else the ValueError naming the flag."""
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(RunSettings) if hasattr(args, f.name)}
    try:
        return RunSettings(**values)
    except ValueError as exc:
        if parser is None:
            raise
        parser.error(str(exc))  # exits with the usage
