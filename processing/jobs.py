"""Imports every module that registers job handlers with processing.runner.register."""

import processing.export
import processing.ingest.extract
import processing.ingest.pipeline
import processing.ingest.steps  # noqa: F401
