"""Reasoning accuracy per language (`python -m lowres_rl.evaluate`): the CLI (main), decoding
(sampling, generation), generating and grading with a model (model), the repair protocol (repair),
reading saved completions (completions), results records and figures (records, metrics), and
the outputs (report, plots, compare)."""
