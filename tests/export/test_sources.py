"""Local copies of an export's sources: the start time is probed once per copy, not per chunk."""

from __future__ import annotations

import uuid
from fractions import Fraction

import pytest

from exports.sources import local_sources
from tests.export.conftest import probe

pytestmark = pytest.mark.django_db


def test_a_copys_start_time_is_probed_once_and_kept_beside_it(clip_of, sources, settings, tmp_path):
    settings.PROCESSING_TMP_DIR = str(tmp_path)
    path = sources.video(seconds=2)
    clip = clip_of(path, "A")
    job_id = uuid.uuid4()
    known = {"k": {"file": clip.file_path, "size": clip.file_size, "name": "A"}}

    (first,) = local_sources(job_id, ["k"], known).values()

    expected = Fraction(probe(path)["format"]["start_time"])
    assert first.start == expected
    kept = first.path.with_name(f"{first.path.name}.start")
    assert Fraction(kept.read_text()) == expected
    # A later chunk reads the kept answer (had it probed again, it would not see this one).
    kept.write_text("7/3")
    (again,) = local_sources(job_id, ["k"], known).values()
    assert (again.path, again.start) == (first.path, Fraction(7, 3))
