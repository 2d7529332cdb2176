# `make demo` sets everything up (interpreters, CPU torch, the package) and runs the offline demo.
.PHONY: demo setup test

setup:
	@command -v swipl >/dev/null && command -v sbcl >/dev/null && command -v bwrap >/dev/null || \
		(apt-get update -qq && apt-get install -y -qq swi-prolog-nox sbcl bubblewrap)
	python -m pip install -q torch==2.13.0
	python -m pip install -q -e ".[dev]"

demo: setup
	python -m lowres_rl.demo --output_dir outputs/demo

test: setup
	python -m pytest -q
