"""Checks that run before any model is loaded: bad input fails in seconds, with a message that
says what is wrong and what would be right, instead of after minutes of GPU set-up."""
from __future__ import annotations

import importlib.util
import logging
import os
from pathlib import Path
from typing import Any, Callable

from lowres_rl.languages import PluginError, UnknownLanguageError, available_languages, get_language


log = logging.getLogger(__name__)


class SetupError(RuntimeError):
    """The run cannot start; the message says why and how to fix it."""


def languages(names: list[str]) -> None:
    """Every language is registered, loads, and has its interpreter installed."""
    if not names:
        raise SetupError(f"--lang is empty; choose from: {', '.join(available_languages())}")
    for name in names:
        try:
            language = get_language(name)
        except (UnknownLanguageError, PluginError) as exc:
            raise SetupError(str(exc)) from None
        if language.missing():
            raise SetupError("; ".join(language.missing()))


def generation(grpo_args: Any, model_args: Any) -> None:
    """Optional extras asked for are installed."""
    if getattr(grpo_args, "use_vllm", False) and importlib.util.find_spec("vllm") is None:
        raise SetupError("--use_vllm needs vLLM: pip install 'lowres-rl[vllm]' (and a GPU)")
    quantised = getattr(model_args, "load_in_4bit", False) or getattr(model_args, "load_in_8bit", False)
    if quantised and importlib.util.find_spec("bitsandbytes") is None:
        raise SetupError("--load_in_4bit/--load_in_8bit need bitsandbytes: pip install 'lowres-rl[bitsandbytes]'")


def distributed(grpo_args: Any) -> None:
    """Several launched processes are one data-parallel run. On a machine without a GPU, accelerate
    sets that up only with `use_cpu`: without it, it still joins the ranks' process group but reports
    no distributed run, so rewards are not gathered while TRL still slices them by rank (rank 1 found
    an empty slice and crashed in shuffle_sequence_dict while rank 0 trained alone)."""
    from transformers.training_args import ParallelMode

    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and grpo_args.parallel_mode != ParallelMode.DISTRIBUTED:
        kind = getattr(grpo_args.distributed_state, "distributed_type", None)
        raise SetupError(f"launched as {world} processes (WORLD_SIZE={world}) but accelerate set up no "
                         f"distributed run ({kind}); without a GPU pass --use_cpu true (gloo backend)")
    if grpo_args.use_cpu and accelerator_available():
        log.warning("--use_cpu is set although an accelerator is available: training runs on the CPU")


def accelerator_available() -> bool:
    """A GPU (or another torch accelerator) this process can use."""
    import torch

    return torch.accelerator.is_available()


# The LoRA fields of TRL's ModelConfig: with --use_peft false they would do nothing, so a value other
# than the default is refused rather than ignored.
LORA_FIELDS = ("lora_r", "lora_alpha", "lora_dropout", "lora_target_modules", "lora_target_parameters",
               "lora_modules_to_save", "lora_task_type", "use_rslora", "use_dora")


def peft_config(model_args: Any, defaults: Any = None) -> Any:
    """TRL's own LoraConfig for `model_args` (every LoRA flag: DoRA, rsLoRA, modules_to_save, task
    type, target parameters), or None with --use_peft false. SetupError for flags that cannot work:
    a task type other than CAUSAL_LM (GRPO trains a causal LM), or LoRA flags without --use_peft.
    `defaults` is the ModelConfig the parser would build from no flags (to tell set from unset)."""
    from trl import get_peft_config

    if not model_args.use_peft:
        changed = [name for name in LORA_FIELDS if defaults is not None
                   and getattr(model_args, name) != getattr(defaults, name)]
        if changed:
            raise SetupError(f"{', '.join('--' + n for n in changed)} configure LoRA, but --use_peft is false "
                             f"(full fine-tuning); drop them or set --use_peft true")
        return None
    if str(model_args.lora_task_type).upper() != "CAUSAL_LM":
        raise SetupError(f"--lora_task_type {model_args.lora_task_type!r}: GRPO trains a causal language "
                         f"model, so the only task type that works is CAUSAL_LM")
    if model_args.lora_target_parameters and model_args.lora_dropout:
        raise SetupError(f"--lora_target_parameters needs --lora_dropout 0 (peft's ParamWrapper has no "
                         f"dropout), got {model_args.lora_dropout}")
    try:
        return get_peft_config(model_args)
    except (TypeError, ValueError) as exc:
        raise SetupError(f"LoRA flags: {exc}") from None


def model_source(name: str) -> str:
    """A local path must exist; anything else is a hub id."""
    path = Path(name).expanduser()
    if path.exists():
        return str(path)
    if name.startswith((".", "/", "~")) or name.count("/") > 1:
        raise SetupError(f"model path {name!r} does not exist (give a local directory made with "
                         f"save_pretrained, or a hub id such as Qwen/Qwen2.5-Coder-1.5B-Instruct)")
    return name


def from_hub(loader: Callable[[], Any], name: str, what: str) -> Any:
    try:
        return loader()
    except OSError as exc:
        raise SetupError(
            f"cannot load the {what} {name!r}: {exc}. If there is no network here, download it elsewhere "
            f"(huggingface-cli download {name}) and pass the local directory with --model_name_or_path; "
            f"`python -m lowres_rl.offline.tiny DIR` builds a tiny offline model for smoke runs") from None


def load_tokenizer(model_args: Any) -> Any:
    from transformers import AutoTokenizer

    source = model_source(model_args.model_name_or_path)
    tokenizer = from_hub(lambda: AutoTokenizer.from_pretrained(source, revision=model_args.model_revision),
                          source, "tokenizer of")
    if tokenizer.chat_template is None:
        raise SetupError(f"tokenizer of {source!r} has no chat template; use an -Instruct model")
    return tokenizer


def load_model(model_args: Any) -> Any:
    from transformers import AutoModelForCausalLM
    from trl import get_quantization_config

    source = model_source(model_args.model_name_or_path)
    kwargs = {"revision": model_args.model_revision, "attn_implementation": model_args.attn_implementation}
    if model_args.dtype not in (None, "auto"):
        kwargs["dtype"] = model_args.dtype
    quantization = get_quantization_config(model_args)
    if quantization is not None:
        # A quantised model must be placed when it loads (it cannot be moved afterwards).
        kwargs.update(quantization_config=quantization, device_map=_kbit_device_map())
    return from_hub(lambda: AutoModelForCausalLM.from_pretrained(source, **kwargs), source, "model")


def _kbit_device_map() -> dict[str, int] | None:
    """Each process's quantised model on its own GPU (accelerate's local process index)."""
    import torch
    from accelerate import PartialState

    return {"": PartialState().local_process_index} if torch.cuda.is_available() else None


def dataset(loader: Callable[[], Any]) -> Any:
    """Run a dataset step, turning its errors (DatasetError: bad source, column or row) into SetupError."""
    from lowres_rl.data.dataset import DatasetError

    try:
        return loader()
    except DatasetError as exc:
        raise SetupError(str(exc)) from None
