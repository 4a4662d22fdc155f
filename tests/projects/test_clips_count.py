from __future__ import annotations

from clips.models import Clip
from clips.services.clips import project_clips_count_refresh
from projects.models import Project


def test_it_recounts_the_clips_from_the_database(project: Project) -> None:
    for name in ("a.mp4", "b.mp4", "c.mp4"):
        Clip.objects.create(project=project, owner=project.owner, name=name)
    Project.objects.filter(pk=project.pk).update(clips_count=99)

    assert project_clips_count_refresh(project=project) == 3

    project.refresh_from_db()
    assert project.clips_count == 3
    Clip.objects.filter(name="a.mp4").delete()
    project_clips_count_refresh(project=project)
    project.refresh_from_db()
    assert project.clips_count == 2


def test_it_counts_zero_for_an_empty_library(project: Project) -> None:
    Project.objects.filter(pk=project.pk).update(clips_count=4)

    project_clips_count_refresh(project=project)

    project.refresh_from_db()
    assert project.clips_count == 0
