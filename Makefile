.PHONY: setup demo test bench

setup:  ## create .venv (code + tests) and .venv-checkov (checkov alone)
	scripts/setup.sh

demo:  ## the main job, offline: train briefly, pack, serve locally, call the Lambda
	scripts/demo.sh

test:  ## every test of every part, as CI runs it
	scripts/test.sh

bench:  ## all CPU benchmarks side by side (< 10 min); rewrites benchmarks/results/ and docs/benchmarks.md
	scripts/setup.sh
	.venv/bin/python -m benchmarks.run_all
