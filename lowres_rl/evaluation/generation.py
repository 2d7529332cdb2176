"""Generation backends for evaluation: batched Hugging Face `generate`, or vLLM.

    generator = load_generator("hf", "Qwen/Qwen2.5-Coder-1.5B-Instruct", adapter="outputs/grpo")
    outputs = generator.generate([messages, ...], Sampling(n=4, temperature=0.1), desc="prolog")
    outputs[0][3].text, outputs[0][3].tokens      # prompt 0, sample 3

Prompts are chat conversations, rendered with the tokenizer's chat template (generation prompt
added). The HF backend pads on the left, runs `batch_size` prompts per `model.generate` call
(each giving `n` sequences) and counts a completion's tokens up to its first stop token. The vLLM
backend needs `pip install 'lowres-rl[vllm]'` and a GPU.

Decoding is what Sampling says and nothing else. transformers fills every field a config passed to
`generate()` leaves unset from the model's own generation_config.json (Qwen's ship temperature 0.7,
top_p 0.8, top_k 20, repetition_penalty 1.05-1.1), and vLLM applies it as default sampling
parameters: both backends are kept from reading it, and `settings()` records what was used.
"""
from __future__ import annotations

import importlib.util
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol, Sequence

import lowres_rl.training.checks as checks

log = logging.getLogger(__name__)

Messages = list[dict[str, str]]
BACKENDS = ("hf", "vllm", "vllm-server")


@dataclass(frozen=True)
class Sampling:
    """How to decode. temperature 0 is greedy (then top_p/top_k are unused); top_k None: off."""

    n: int = 1
    temperature: float = 0.0
    top_p: float = 1.0
    top_k: int | None = None
    max_new_tokens: int = 1024
    seed: int = 0

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ValueError(f"number of samples must be at least 1, got {self.n}")
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")
        if self.n > 1 and self.temperature == 0:
            raise ValueError(f"{self.n} samples per prompt at temperature 0 would all be the same "
                             f"greedy completion; give a temperature above 0")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.top_k is not None and self.top_k < 1:
            raise ValueError(f"top_k must be a positive integer (or unset), got {self.top_k}")
        if self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be positive, got {self.max_new_tokens}")

    @property
    def greedy(self) -> bool:
        return self.temperature == 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Generation:
    """One completion: its text and its length in tokens (stop token excluded)."""

    text: str
    tokens: int


class Generator(Protocol):
    def generate(self, conversations: Sequence[Messages], sampling: Sampling,
                 desc: str = "") -> list[list[Generation]]: ...

    def settings(self, sampling: Sampling) -> dict[str, Any]: ...


class HFGenerator:
    """Batched `model.generate` on chat-template-rendered prompts, left-padded."""

    def __init__(self, model: Any, tokenizer: Any, batch_size: int = 8) -> None:
        if batch_size < 1:
            raise ValueError(f"batch size must be at least 1, got {batch_size}")
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        tokenizer.padding_side = "left"  # decoder-only: new tokens follow the last prompt token
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        eos = model.generation_config.eos_token_id
        eos = [eos] if isinstance(eos, int) else list(eos or [])
        # The pad token stops too: Qwen's is <|endoftext|>, which base models write at the end of a
        # document (the paper's completions run on past it into a made-up "Human:" turn).
        self.stop_ids = sorted({*eos, tokenizer.eos_token_id, tokenizer.pad_token_id} - {None})
        # What the checkpoint ships, kept for the record; generate() then finds nothing to inherit.
        self.shipped = {k: v for k, v in model.generation_config.to_diff_dict().items()
                        if k not in ("transformers_version", "_from_model_config")}
        from transformers import GenerationConfig

        model.generation_config = GenerationConfig(eos_token_id=self.stop_ids,
                                                   pad_token_id=self.tokenizer.pad_token_id)

    def render(self, conversation: Messages) -> str:
        return self.tokenizer.apply_chat_template(conversation, add_generation_prompt=True, tokenize=False)

    def _config(self, sampling: Sampling) -> Any:
        """Every decoding field stated: greedy or sampling exactly as asked, no penalties."""
        from transformers import GenerationConfig

        kwargs: dict[str, Any] = dict(
            max_new_tokens=sampling.max_new_tokens, num_return_sequences=sampling.n, eos_token_id=self.stop_ids,
            pad_token_id=self.tokenizer.pad_token_id, do_sample=not sampling.greedy, num_beams=1,
            repetition_penalty=1.0, no_repeat_ngram_size=0, length_penalty=1.0)
        if not sampling.greedy:  # top_k 0 is off (transformers' own default would be 50)
            kwargs.update(temperature=sampling.temperature, top_p=sampling.top_p, top_k=sampling.top_k or 0)
        return GenerationConfig(**kwargs)

    def settings(self, sampling: Sampling) -> dict[str, Any]:
        """What generate() is given, and what the model's generation_config.json said (not used)."""
        used = {k: v for k, v in self._config(sampling).to_dict().items()
                if k in ("do_sample", "temperature", "top_p", "top_k", "min_p", "repetition_penalty",
                         "no_repeat_ngram_size", "num_beams", "max_new_tokens", "num_return_sequences",
                         "eos_token_id", "pad_token_id")}
        return {"backend": "hf", "generate": used, "model_generation_config_ignored": self.shipped}

    def _completion(self, ids: Any) -> Generation:
        ids = ids.tolist()
        stops = [i for i, token in enumerate(ids) if token in self.stop_ids]
        ids = ids[:stops[0]] if stops else ids
        return Generation(self.tokenizer.decode(ids, skip_special_tokens=True), len(ids))

    def generate(self, conversations: Sequence[Messages], sampling: Sampling,
                 desc: str = "") -> list[list[Generation]]:
        import torch
        from tqdm.auto import tqdm

        texts = [self.render(c) for c in conversations]
        # Longest prompts first: less padding per batch, and an out-of-memory error comes early.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        config = self._config(sampling)
        results: list[list[Generation]] = [[] for _ in texts]
        with tqdm(total=len(texts), desc=desc or "generating", unit="prompt") as bar:
            for start in range(0, len(order), self.batch_size):
                batch = order[start:start + self.batch_size]
                inputs = self.tokenizer([texts[i] for i in batch], return_tensors="pt", padding=True,
                                        add_special_tokens=False).to(self.model.device)
                with torch.inference_mode():
                    output = self.model.generate(**inputs, generation_config=config)
                new = output[:, inputs["input_ids"].shape[1]:]
                for row, i in enumerate(batch):
                    results[i] = [self._completion(new[row * sampling.n + s]) for s in range(sampling.n)]
                bar.update(len(batch))
        return results


class VLLMGenerator:
    """vLLM's offline `LLM.chat`, with the LoRA adapter (if any) as a LoRARequest."""

    def __init__(self, model: str, revision: str | None = None, adapter: str | None = None,
                 dtype: str = "auto", seed: int = 0) -> None:
        from vllm import LLM
        from vllm.lora.request import LoRARequest

        # generation_config="vllm": vLLM's neutral defaults, not the checkpoint's sampling settings.
        kwargs: dict[str, Any] = dict(model=model, revision=revision, dtype=dtype, seed=seed, generation_config="vllm")
        self.lora = None
        if adapter:
            kwargs.update(enable_lora=True, max_lora_rank=_lora_rank(adapter))
            self.lora = LoRARequest("adapter", 1, str(adapter))
        self.llm = LLM(**kwargs)

    def settings(self, sampling: Sampling) -> dict[str, Any]:
        return {"backend": "vllm", "sampling_params": _vllm_params(sampling), "generation_config": "vllm"}

    def generate(self, conversations: Sequence[Messages], sampling: Sampling,
                 desc: str = "") -> list[list[Generation]]:
        from vllm import SamplingParams

        params = SamplingParams(**_vllm_params(sampling))
        log.info("%s: generating %d prompts x %d with vLLM", desc, len(conversations), sampling.n)
        outputs = self.llm.chat(list(conversations), params, use_tqdm=True, lora_request=self.lora)
        return [[Generation(o.text, len(o.token_ids)) for o in out.outputs] for out in outputs]


class VLLMServerGenerator:
    """A running `trl vllm-serve --model M` server (TRL's VLLMClient; the server applies the chat
    template). Serves the base model it was started with: no adapter here."""

    def __init__(self, tokenizer: Any, url: str = "http://localhost:8000", client: Any = None) -> None:
        if client is None:
            from trl.generation.vllm_client import VLLMClient

            client = VLLMClient(base_url=url, connection_timeout=60)
        self.client, self.tokenizer, self.url = client, tokenizer, url

    def settings(self, sampling: Sampling) -> dict[str, Any]:
        return {"backend": "vllm-server", "url": self.url, "sampling_params": _vllm_params(sampling)}

    def generate(self, conversations: Sequence[Messages], sampling: Sampling,
                 desc: str = "") -> list[list[Generation]]:
        params = _vllm_params(sampling)
        log.info("%s: generating %d prompts x %d on %s", desc, len(conversations), sampling.n, self.url)
        out = self.client.chat(list(conversations), n=sampling.n, temperature=sampling.temperature,
                               top_p=params["top_p"], top_k=max(params["top_k"], 0), min_p=0.0,
                               repetition_penalty=1.0, max_tokens=sampling.max_new_tokens, logprobs=None,
                               generation_kwargs={"seed": sampling.seed, "presence_penalty": 0.0,
                                                  "frequency_penalty": 0.0})
        ids = out["completion_ids"]  # conversation-major: conversation i's samples are i*n .. i*n+n-1
        return [[Generation(self.tokenizer.decode(ids[i * sampling.n + s], skip_special_tokens=True),
                            len(ids[i * sampling.n + s])) for s in range(sampling.n)] for i in range(len(conversations))]


def _vllm_params(sampling: Sampling) -> dict[str, Any]:
    """SamplingParams fields for `sampling`, every one stated (top_k -1 and top_p 1 are off)."""
    return dict(n=sampling.n, temperature=sampling.temperature, max_tokens=sampling.max_new_tokens,
                top_p=1.0 if sampling.greedy else sampling.top_p,
                top_k=-1 if sampling.greedy or sampling.top_k is None else sampling.top_k,
                min_p=0.0, repetition_penalty=1.0, presence_penalty=0.0, frequency_penalty=0.0, seed=sampling.seed)


def _lora_rank(adapter: str | Path) -> int:
    """vLLM sizes its LoRA slots up front: the adapter's rank, rounded up to a size vLLM accepts."""
    try:
        rank = int(json.loads((Path(adapter) / "adapter_config.json").read_text())["r"])
    except (OSError, KeyError, ValueError) as exc:
        raise checks.SetupError(f"--adapter {str(adapter)!r}: cannot read the LoRA rank from "
                                f"adapter_config.json ({exc})") from None
    return next((size for size in (8, 16, 32, 64, 128, 256, 512) if size >= rank), rank)


def check_backend(backend: str, quantised: bool = False) -> None:
    """The backend (and bitsandbytes, for quantisation) is installed; SetupError saying how if not."""
    if backend not in BACKENDS:
        raise checks.SetupError(f"unknown --backend {backend!r}; expected one of {', '.join(BACKENDS)}")
    if backend != "hf" and importlib.util.find_spec("vllm") is None:
        raise checks.SetupError(f"--backend {backend} needs vLLM, which is not installed: "
                                "pip install 'lowres-rl[vllm]' (and a GPU), or use --backend hf")
    if quantised and backend != "hf":
        raise checks.SetupError("--load-in-4bit/--load-in-8bit apply to --backend hf only")
    if quantised and importlib.util.find_spec("bitsandbytes") is None:
        raise checks.SetupError("--load-in-4bit/--load-in-8bit need bitsandbytes: "
                                "pip install 'lowres-rl[bitsandbytes]'")


def check_adapter(adapter: str | None) -> None:
    """A LoRA adapter directory holds adapter_config.json (checked before any model loads)."""
    if adapter and not (Path(adapter).expanduser() / "adapter_config.json").is_file():
        raise checks.SetupError(f"--adapter {adapter!r} is not a LoRA adapter directory (no adapter_config.json "
                                f"in it); pass the output directory of `python -m lowres_rl.train`")


def model_args(model: str, revision: str | None = None, dtype: str = "auto", load_in_4bit: bool = False,
               load_in_8bit: bool = False, attn_implementation: str | None = None) -> Any:
    """TRL's ModelConfig, the object lowres_rl.training.checks loads models and tokenizers from."""
    from trl import ModelConfig

    return ModelConfig(model_name_or_path=model, model_revision=revision or "main", dtype=dtype,
                       load_in_4bit=load_in_4bit, load_in_8bit=load_in_8bit,
                       attn_implementation=attn_implementation)


def load_tokenizer(model: str, revision: str | None = None) -> Any:
    return checks.load_tokenizer(model_args(model, revision))


def load_hf(model: str, revision: str | None = None, adapter: str | None = None, dtype: str = "auto",
            load_in_4bit: bool = False, load_in_8bit: bool = False, attn_implementation: str | None = None,
            batch_size: int = 8) -> HFGenerator:
    """Model and tokenizer (plus the LoRA adapter on top), on the GPU when there is one."""
    import torch

    cuda = torch.cuda.is_available()
    if dtype == "auto" and not cuda:
        dtype = "float32"  # bf16 matmuls on CPU are slow or missing
    args = model_args(model, revision, dtype, load_in_4bit, load_in_8bit, attn_implementation)
    tokenizer = checks.load_tokenizer(args)
    network = checks.load_model(args)
    if cuda and not (load_in_4bit or load_in_8bit):
        network = network.to("cuda")
    if adapter:
        network = _with_adapter(network, adapter)
    log.info("loaded %s%s on %s", model, f" + adapter {adapter}" if adapter else "", network.device)
    return HFGenerator(network, tokenizer, batch_size)


def _with_adapter(model: Any, adapter: str) -> Any:
    from peft import PeftModel

    check_adapter(adapter)
    return PeftModel.from_pretrained(model, str(Path(adapter).expanduser())).eval()


def load_generator(backend: str, model: str, revision: str | None = None, adapter: str | None = None,
                   dtype: str = "auto", load_in_4bit: bool = False, load_in_8bit: bool = False,
                   attn_implementation: str | None = None, batch_size: int = 8, seed: int = 0,
                   server_url: str = "http://localhost:8000") -> Generator:
    """The generator for `backend` (BACKENDS); SetupError when it cannot be built."""
    check_backend(backend, load_in_4bit or load_in_8bit)
    check_adapter(adapter)  # before minutes of model loading
    if backend == "vllm-server":
        if adapter:
            raise checks.SetupError("--backend vllm-server generates with the model the server was started "
                                    "with; merge the adapter into it and serve that, or use --backend vllm")
        return VLLMServerGenerator(load_tokenizer(model, revision), server_url)
    if backend == "vllm":
        if adapter:
            _lora_rank(adapter)
        return VLLMGenerator(model, revision, adapter, dtype, seed)
    return load_hf(model, revision, adapter, dtype, load_in_4bit, load_in_8bit, attn_implementation, batch_size)
