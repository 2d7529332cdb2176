"""The input side: GSM8K rows (hub id or local file; question, gold answer) and the prompts built
from them (lowres_rl.data.prompt: a language's conventions, worked examples and the response
format's instructions). Above grading, because a prompt shows the format grading checks."""
