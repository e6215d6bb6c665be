.PHONY: setup demo test

setup:  ## create .venv (code + tests) and .venv-checkov (checkov alone)
	scripts/setup.sh

demo:  ## the main job, offline: train briefly, pack, serve locally, call the Lambda
	scripts/demo.sh

test:  ## every test of every part, as CI runs it
	scripts/test.sh
