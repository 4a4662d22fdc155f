# Clip Sequencer. `make run` serves the whole app; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test install install-dev upgrade ffmpeg lint format typecheck check bench-upload bench-export bench-api bench-collab bench-media clean

# uv installs every dependency from uv.lock (exact versions, hash-checked). uv itself comes
# from PyPI into a folder of its own, pinned and hash-checked too: plain Python is enough.
TOOLS := .tools
UV := $(TOOLS)/bin/uv
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON := $(PYTHON)
export UV_LINK_MODE := copy
export UV_PYTHON_DOWNLOADS := never

$(UV): deploy/uv-requirements.txt
	@$(PYTHON) -m venv $(TOOLS) 2>/dev/null || { \
	  echo "Installing python3-venv from the OS packages"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(TOOLS); }
	$(TOOLS)/bin/python -m pip install -q --disable-pip-version-check --require-hashes --no-deps \
	  -r deploy/uv-requirements.txt
	@touch $@

# `make run` gets the runtime dependencies only; `make test` (and lint, typecheck) the dev group.
# Each re-syncs only when the lock changed, so a second run starts in seconds.
$(VENV)/.runtime: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --no-dev
	@rm -f $(VENV)/.dev
	@touch $@

$(VENV)/.dev: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen
	@touch $@ $(VENV)/.runtime

install: $(VENV)/.runtime

install-dev: $(VENV)/.dev

ffmpeg:
	@command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || { \
	  echo "Installing FFmpeg from the OS packages"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq ffmpeg; } \
	  || echo "FFmpeg is missing and could not be installed: processing jobs will fail until it is."

run: install ffmpeg
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py serve --host $(HOST) --port $(PORT)

test: install-dev ffmpeg
	SECRET_KEY=$${SECRET_KEY:-test-secret-key-not-for-production-0123456789abcdef} \
	  $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: install-dev
	$(BIN)/mypy .

check: lint typecheck test

bench-upload: install-dev
	$(BIN)/python bench/upload.py

# Compares our export with one hand-written FFmpeg command, MoviePy and melt (MLT).
bench-export: install-dev ffmpeg
	$(UV) sync --frozen --group bench
	@rm -f $(VENV)/.dev
	@command -v melt >/dev/null || { echo "Installing melt from the OS packages"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq melt; } \
	  || echo "melt could not be installed: the bench reports it as missing."
	$(BIN)/python bench/export.py

bench-api: install-dev
	$(BIN)/python bench/api.py

# 20 websocket clients co-editing a 500-segment timeline: apply time and delivery latency.
bench-collab: install-dev ffmpeg
	$(BIN)/python bench/collab.py

bench-media: install-dev
	$(BIN)/python bench/media.py

clean:
	rm -rf $(VENV) $(TOOLS) var .pytest_cache .mypy_cache .ruff_cache

# Taking upgrades is a deliberate act: re-resolve within pyproject.toml's ranges, then run the
# whole suite on the result. Commit uv.lock only when it passes.
upgrade: | $(UV)
	$(UV) lock --upgrade
	$(UV) sync --frozen
	@touch $(VENV)/.dev $(VENV)/.runtime
	$(MAKE) lint typecheck test
