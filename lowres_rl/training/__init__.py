"""GRPO training with TRL and peft (`python -m lowres_rl.train`): the script (main), model and
setup checks (checks), the pre-flight report and prompt budget (preflight, budget), and the
per-rank completion logs (completions)."""
