"""Everything that runs without the hub: synthetic problems (synthetic), a tiny model and
tokenizer built in-process (tiny, warmup), and the offline demo that shows GRPO learning (demo)."""
