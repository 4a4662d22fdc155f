# Clip Sequencer. `make run` serves the whole app; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test install ffmpeg lint format typecheck check bench-upload bench-export bench-api clean

$(BIN)/python:
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  echo "Installing python3-venv from the OS packages"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); }

# Re-installs only when pyproject.toml changes, so a second `make run` starts in seconds.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $@

install: $(VENV)/.installed

ffmpeg:
	@command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || { \
	  echo "Installing FFmpeg from the OS packages"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq ffmpeg; } \
	  || echo "FFmpeg is missing and could not be installed: processing jobs will fail until it is."

run: install ffmpeg
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py serve --host $(HOST) --port $(PORT)

test: install ffmpeg
	SECRET_KEY=$${SECRET_KEY:-test-secret-key-not-for-production-0123456789abcdef} \
	  $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: install
	$(BIN)/mypy .

check: lint typecheck test

bench-upload: install
	$(BIN)/python bench/upload.py

# Compares our export with one hand-written FFmpeg command, MoviePy and melt (MLT).
bench-export: install ffmpeg
	$(BIN)/python -m pip install -q -e '.[dev,bench]'
	@command -v melt >/dev/null || { echo "Installing melt from the OS packages"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq melt; } \
	  || echo "melt could not be installed: the bench reports it as missing."
	$(BIN)/python bench/export.py

bench-api: install
	$(BIN)/python bench/api.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
