"""The realtime specs reuse the processing fixtures: real media, stored clips, a worker."""

from tests.processing.conftest import media, stored_clip, worker  # noqa: F401
