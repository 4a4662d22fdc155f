"""Imports every module of processing that registers job handlers with
processing.runner.register (other apps register theirs in their AppConfig.ready)."""

import processing.ingest.extract
import processing.ingest.pipeline
import processing.ingest.steps  # noqa: F401
