.PHONY: setup demo test bench aws-acceptance

setup:  ## create .venv (code + tests) and .venv-checkov (checkov alone)
	scripts/setup.sh

demo:  ## the main job, offline: train briefly, pack, serve locally, call the Lambda
	scripts/demo.sh

test:  ## every test of every part, as CI runs it
	scripts/test.sh

bench:  ## all CPU benchmarks side by side (< 10 min); rewrites benchmarks/results/, docs/benchmarks.md and docs/bill.md
	scripts/setup.sh
	.venv/bin/python -m benchmarks.run_all
	.venv/bin/dogbreed-bill --write-doc docs/bill.md >/dev/null

aws-acceptance:  ## the stack on a sandbox account end to end, then torn down: REGION=... [SPEND=1] [BUDGET_EMAIL=...]; OFFLINE=1: against the stand-ins
	REGION="$(REGION)" SPEND="$(SPEND)" OFFLINE="$(OFFLINE)" BUDGET_EMAIL="$(BUDGET_EMAIL)" REPORT_DIR="$(REPORT_DIR)" WORK_ROOT="$(WORK_ROOT)" scripts/aws_acceptance.sh
