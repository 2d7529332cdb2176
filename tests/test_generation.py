"""Evaluation decodes exactly as asked: nothing is inherited from the model's generation_config.json.
`python -m pytest tests/test_generation.py -v`"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from shared_paths import shared_path

import lowres_rl.evaluation.main as evaluate
from lowres_rl.evaluation.generation import Sampling, load_hf

GSM8K_TEST = shared_path("data", "gsm8k", "test.jsonl") or Path("shared/data/gsm8k/test.jsonl")
# What a checkpoint could ship: a strong penalty and sampling settings that would change "greedy"
# and make sampling deterministic (top_k 1) if they were inherited.
SHIPPED = {"repetition_penalty": 50.0, "do_sample": True, "temperature": 0.7, "top_k": 1, "top_p": 0.8}
CHATS = [[{"role": "user", "content": q}] for q in ("How many eggs?", "A train leaves at 3.", "2 + 2 = ?")]


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> tuple[Path, Path]:
    """The tiny model twice: as built, and with SHIPPED in its generation_config.json."""
    import torch

    from lowres_rl.offline.tiny import build_tiny

    torch.set_num_threads(1)
    plain = build_tiny(tmp_path_factory.mktemp("plain"), hidden_size=32)
    shipped = tmp_path_factory.mktemp("shipped") / "model"
    shutil.copytree(plain, shipped)
    config = json.loads((shipped / "generation_config.json").read_text()) if (
        shipped / "generation_config.json").exists() else {}
    (shipped / "generation_config.json").write_text(json.dumps({**config, **SHIPPED}))
    return plain, shipped


def texts(generator, sampling: Sampling) -> list[list[str]]:
    return [[g.text for g in out] for out in generator.generate(CHATS, sampling)]


def test_the_shipped_penalty_would_change_greedy_output(models) -> None:
    """The control: decoding with the settings inherited (transformers' behaviour) differs, so the
    next test's equality means something."""
    import torch

    plain, shipped = models
    ours = load_hf(str(plain), batch_size=3)
    inherited = load_hf(str(shipped), batch_size=3)
    from transformers import GenerationConfig

    inherited.model.generation_config = GenerationConfig.from_pretrained(shipped)  # as loaded, unscrubbed
    inputs = ours.tokenizer([ours.render(c) for c in CHATS], return_tensors="pt", padding=True)
    torch.manual_seed(0)
    with torch.inference_mode():
        a = ours.model.generate(**inputs, generation_config=GenerationConfig(max_new_tokens=24, do_sample=False))
        b = inherited.model.generate(**inputs, generation_config=GenerationConfig(max_new_tokens=24, do_sample=False))
    assert not torch.equal(a, b)


def test_greedy_ignores_the_models_generation_config(models) -> None:
    plain, shipped = models
    greedy = Sampling(max_new_tokens=24)
    assert texts(load_hf(str(shipped), batch_size=3), greedy) == texts(load_hf(str(plain), batch_size=3), greedy)


def test_sampling_ignores_the_models_top_k(models) -> None:
    """With top_k 1 inherited, four samples at temperature 1 would all be the greedy one."""
    _, shipped = models
    samples = texts(load_hf(str(shipped), batch_size=3), Sampling(n=4, temperature=1.0, max_new_tokens=12))
    assert all(len(set(group)) > 1 for group in samples), samples


def test_results_json_records_the_settings_used_and_those_ignored(models, tmp_path: Path) -> None:
    _, shipped = models
    args = ["--model", str(shipped), "--dataset", str(GSM8K_TEST), "--limit", "2", "--max-new-tokens", "8",
            "--lang", "prolog", "--workers", "1", "--output_dir", str(tmp_path)]
    assert evaluate.main(args) == 0
    generation = json.loads((tmp_path / "results.json").read_text())["settings"]["generation"]
    used = generation["generate"]
    assert (used["do_sample"], used["repetition_penalty"], used["max_new_tokens"]) == (False, 1.0, 8)
    ignored = generation["model_generation_config_ignored"]
    assert {k: ignored[k] for k in SHIPPED} == SHIPPED


def test_vllm_server_backend_asks_for_exactly_the_sampling(models) -> None:
    """--backend vllm-server (a `trl vllm-serve` server, through TRL's VLLMClient): every sampling
    field is sent, penalties off, and completions come back per conversation, n each."""
    from lowres_rl.training.checks import load_tokenizer
    from lowres_rl.evaluation.generation import VLLMServerGenerator, model_args

    plain, _ = models
    tokenizer = load_tokenizer(model_args(str(plain)))
    sent = {}

    class Client:
        def chat(self, messages, **kwargs):
            sent.update(kwargs, messages=messages)
            ids = tokenizer("<query>\n(solve)\n</query>", add_special_tokens=False)["input_ids"]
            return {"completion_ids": [ids[: i + 1] for i in range(len(messages) * kwargs["n"])]}

    generator = VLLMServerGenerator(tokenizer, "http://gpu:8000", client=Client())
    out = generator.generate(CHATS, Sampling(n=2, temperature=0.1, top_p=0.95, top_k=50, max_new_tokens=64, seed=3))
    assert [[g.tokens for g in group] for group in out] == [[1, 2], [3, 4], [5, 6]]
    assert sent["messages"] == CHATS
    assert {k: sent[k] for k in ("n", "temperature", "top_p", "top_k", "min_p", "repetition_penalty", "max_tokens")} \
        == {"n": 2, "temperature": 0.1, "top_p": 0.95, "top_k": 50, "min_p": 0.0, "repetition_penalty": 1.0,
            "max_tokens": 64}
    assert sent["generation_kwargs"]["seed"] == 3
    greedy = generator.settings(Sampling())["sampling_params"]
    assert (greedy["temperature"], greedy["top_k"], greedy["top_p"]) == (0.0, -1, 1.0)
