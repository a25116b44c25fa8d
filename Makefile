# The README's commands. The virtualenv lives in ~/.cache/flashpoint (see deploy/venv.sh).
SHELL := /bin/bash
VENV = $(shell deploy/venv.sh)
ifeq ($(strip $(VENV)),)
$(error could not build the virtualenv: run deploy/venv.sh to see why)
endif

.PHONY: demo test lint typecheck bench contract env-example kafka-up kafka-down

demo:  ## the main job on an embedded local Kafka: broker, worker, sample articles, alerts
	@venv=$(VENV) && "$$venv/bin/flashpoint" demo

test:  ## every test CI runs (starts its own Kafka)
	@venv=$(VENV) && "$$venv/bin/python" -m pytest

lint:
	@venv=$(VENV) && "$$venv/bin/ruff" check . && "$$venv/bin/ruff" format --check .

typecheck:
	@venv=$(VENV) && "$$venv/bin/mypy" streams schemas

contract:  ## regenerate schemas/json and schemas/asyncapi.yaml from the models
	@venv=$(VENV) && "$$venv/bin/flashpoint" contract export

env-example:  ## regenerate deploy/flashpoint.env.example from the settings' descriptions
	@venv=$(VENV) && "$$venv/bin/python" -c "from streams.config import env_example; print(env_example(), end='')" > deploy/flashpoint.env.example

bench:
	@venv=$(VENV) && "$$venv/bin/python" bench/bench_classifier.py && "$$venv/bin/python" bench/bench_pipeline.py

kafka-up:
	@venv=$(VENV) && "$$venv/bin/flashpoint" kafka up

kafka-down:
	@venv=$(VENV) && "$$venv/bin/flashpoint" kafka down
