"""Objects of every kind owned by `owner`, for the authorization matrix and XSS specs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone

NASTY = '<script>alert("xss")</script><img src=x onerror=alert(1)>'


@dataclass
class OwnedObjects:
    project: Any
    clip: Any
    upload_clip: Any
    upload: Any
    segment: Any
    job: Any


def make_owned_objects(owner: Any, *, text: str = "ok") -> OwnedObjects:
    from clips.models import Clip, UploadSession
    from processing.models import ProcessingJob
    from projects.models import Project
    from timeline.models import TimelineSegment

    project = Project.objects.create(owner=owner, name=f"Project {text}", description=text)
    clip = Clip.objects.create(
        project=project,
        owner=owner,
        name=f"Clip {text}",
        description=text,
        tags=[text, "holiday"],
        original_filename=f"{text}.mp4",
        status=Clip.Status.READY,
        duration=Decimal("10.000"),
        file_size=1000,
        resolution="320x240",
    )
    upload_clip = Clip.objects.create(
        project=project, owner=owner, name="Uploading", status=Clip.Status.UPLOADING
    )
    upload = UploadSession.objects.create(
        clip=upload_clip,
        owner=owner,
        filename="big.mp4",
        size=10 * 1024**2,
        chunk_size=8 * 1024**2,
        total_chunks=2,
        storage_key=f"clips/{upload_clip.pk}/original",
        expires_at=timezone.now() + timedelta(hours=1),
    )
    segment = TimelineSegment.objects.create(
        project=project,
        clip=clip,
        name=f"Segment {text}",
        start_time=Decimal("0"),
        source_start=Decimal("0"),
        duration=Decimal("2"),
    )
    job = ProcessingJob.objects.create(
        owner=owner, clip=clip, project=project, job_type=ProcessingJob.JobType.PROBE
    )
    return OwnedObjects(project, clip, upload_clip, upload, segment, job)


@pytest.fixture
def owned(owner: Any) -> OwnedObjects:
    return make_owned_objects(owner)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The production setup on loopback (see tests/production/stack.py), shared by the smoke
    test and the drills of one test run."""
    from tests.production.stack import running_stack

    with running_stack(tmp_path_factory.mktemp("stack")) as running:
        yield running


@pytest.fixture(scope="session")
def stack_media(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Test videos made by FFmpeg: `two_chunks` (2 s, about 8 MiB, so two 5 MiB chunks)."""
    from tests.media import ffmpeg

    directory = tmp_path_factory.mktemp("stack-media")
    two_chunks = directory / "two-chunks.mp4"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240:rate=30",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440",
        "-vf",
        "noise=alls=100:allf=t+u",
        "-t",
        "2",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-qp",
        "0",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-shortest",
        str(two_chunks),
    )
    return SimpleNamespace(two_chunks=two_chunks)
