# The README's commands. The virtualenvs live in ~/.cache/flashpoint (see deploy/venv.sh):
# `make demo` needs only the runtime set (no torch); tests, lint and training use the full set.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
RUNTIME = $$(deploy/venv.sh runtime)
FULL = $$(deploy/venv.sh)

.PHONY: demo test test-unit lint typecheck bench contract env-example kafka-up kafka-down

demo:  ## the main job on an embedded local Kafka: broker, worker, sample articles, alerts
	@venv=$(RUNTIME) && "$$venv/bin/flashpoint" demo

test:  ## every test CI runs (starts its own Kafka)
	@venv=$(FULL) && "$$venv/bin/python" -m pytest

test-unit:  ## the fast lane: no JVM, no model
	@venv=$(FULL) && "$$venv/bin/python" -m pytest tests/unit -m "not kafka and not model and not e2e"

lint:
	@venv=$(FULL) && "$$venv/bin/ruff" check . && "$$venv/bin/ruff" format --check .

typecheck:
	@venv=$(FULL) && "$$venv/bin/mypy" streams schemas

contract:  ## regenerate schemas/json and schemas/asyncapi.yaml from the models
	@venv=$(FULL) && "$$venv/bin/flashpoint" contract export

env-example:  ## regenerate deploy/flashpoint.env.example from the settings' descriptions
	@venv=$(FULL) && "$$venv/bin/python" -c "from streams.config import env_example; print(env_example(), end='')" > deploy/flashpoint.env.example

bench:
	@venv=$(FULL) && "$$venv/bin/python" bench/bench_classifier.py && "$$venv/bin/python" bench/bench_pipeline.py

kafka-up:
	@venv=$(RUNTIME) && "$$venv/bin/flashpoint" kafka up

kafka-down:
	@venv=$(RUNTIME) && "$$venv/bin/flashpoint" kafka down
