"""Segment fields of sound and picture: volume, fades, duck and fit, with their defaults, on
every way a segment is written (create, edit, whole-timeline save, restore)."""

from __future__ import annotations

import importlib
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.db import IntegrityError, transaction

from clips.models import Clip
from projects.models import Project
from tests.projects.factories import make_clip, make_project
from timeline.models import TimelineChange, TimelineSegment


def segments_url(project: Project) -> str:
    return f"/api/projects/{project.id}/timeline/segments"


def segment_url(segment_id: str) -> str:
    return f"/api/timeline/segments/{segment_id}"


def body(clip: Clip, start: float, duration: float, **extra: Any) -> dict[str, Any]:
    return {"clip_id": str(clip.id), "start_time": start, "duration": duration, **extra}


def create(api: Any, project: Project, clip: Clip, start: float, duration: float, **extra: Any):
    response = api.post(segments_url(project), body(clip, start, duration, **extra), format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def refused(response: Any, field: str) -> str:
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["field"] == field
    return error["message"]


def test_it_shows_the_defaults_of_a_new_segment(api: Any, project: Project, clip: Clip) -> None:
    created = create(api, project, clip, 0, 4)

    assert {k: created[k] for k in ("volume", "fade_in", "fade_out", "duck")} == {
        "volume": 1,
        "fade_in": 0,
        "fade_out": 0,
        "duck": False,
    }
    assert (created["fit"], created["transition"], created["text"]) == ("blur", None, None)
    got = api.get(f"/api/projects/{project.id}/timeline").json()["segments"][0]
    assert got == {k: v for k, v in created.items() if k != "timeline_version"}


def test_it_gives_new_segments_the_projects_fit(api: Any, owner: Any) -> None:
    project = make_project(owner, settings={"fit": "fill"})
    clip = make_clip(project)

    default = create(api, project, clip, 0, 2)
    chosen = create(api, project, clip, 2, 2, fit="fit")
    saved = api.post(
        f"/api/projects/{project.id}/timeline",
        {"version": 2, "segments": [body(clip, 0, 1), body(clip, 1, 1, fit="blur")]},
        format="json",
    )

    assert (default["fit"], chosen["fit"]) == ("fill", "fit")
    assert [s["fit"] for s in saved.json()["segments"]] == ["fill", "blur"]
    # The project's fit is a default for new segments: changing it restyles none.
    api.patch(f"/api/projects/{project.id}", {"settings": {"fit": "fit"}}, format="json")
    assert set(TimelineSegment.objects.values_list("fit", flat=True)) == {"fill", "blur"}


def test_it_refuses_an_unknown_fit(api: Any, project: Project, clip: Clip) -> None:
    response = api.post(segments_url(project), body(clip, 0, 2, fit="stretch"), format="json")

    refused(response, "fit")


@pytest.mark.parametrize("volume", [0, 0.25, 1.5, 2])
def test_it_accepts_volumes_from_mute_to_double(
    api: Any, project: Project, clip: Clip, volume: float
) -> None:
    created = create(api, project, clip, 0, 2, volume=volume)

    assert created["volume"] == volume
    assert TimelineSegment.objects.get(pk=created["id"]).volume == Decimal(str(volume))


@pytest.mark.parametrize("volume", [-0.1, 2.001, "loud", None])
def test_it_refuses_a_volume_out_of_range(
    api: Any, project: Project, clip: Clip, volume: Any
) -> None:
    response = api.post(segments_url(project), body(clip, 0, 2, volume=volume), format="json")

    refused(response, "volume")
    assert not TimelineSegment.objects.exists()


def test_it_accepts_fades_that_fill_the_whole_segment(
    api: Any, project: Project, clip: Clip
) -> None:
    created = create(api, project, clip, 0, 3, fade_in=1.25, fade_out=1.75)

    assert (created["fade_in"], created["fade_out"]) == (1.25, 1.75)


@pytest.mark.parametrize(
    ("fades", "field"),
    [
        ({"fade_in": 2, "fade_out": 1.001}, "fade_in"),
        ({"fade_out": 3.5}, "fade_out"),
        ({"fade_in": -1}, "fade_in"),
    ],
)
def test_it_refuses_fades_longer_than_the_segment(
    api: Any, project: Project, clip: Clip, fades: dict[str, float], field: str
) -> None:
    response = api.post(segments_url(project), body(clip, 0, 3, **fades), format="json")

    message = refused(response, field)
    assert field in message


def test_it_refuses_an_edit_that_makes_the_fades_too_long(
    api: Any, project: Project, clip: Clip
) -> None:
    made = create(api, project, clip, 0, 3, fade_out=1)

    response = api.patch(segment_url(made["id"]), {"fade_in": 2.5}, format="json")

    assert "longer than the segment (3.000 s)" in refused(response, "fade_in")
    assert TimelineSegment.objects.get(pk=made["id"]).fade_in == 0


def test_it_scales_kept_fades_down_when_a_trim_makes_them_too_long(
    api: Any, project: Project, clip: Clip
) -> None:
    made = create(api, project, clip, 0, 4, fade_in=1, fade_out=3)

    response = api.patch(segment_url(made["id"]), {"duration": 2}, format="json")

    assert response.status_code == 200
    assert (response.json()["fade_in"], response.json()["fade_out"]) == (0.5, 1.5)
    stored = TimelineSegment.objects.get(pk=made["id"])
    assert (stored.fade_in, stored.fade_out) == (Decimal("0.5"), Decimal("1.5"))


def test_it_lets_audio_segments_duck(api: Any, project: Project, clip: Clip) -> None:
    created = create(api, project, clip, 0, 2, layer="audio", duck=True)

    assert created["duck"] is True


@pytest.mark.parametrize("layer", ["video", "text"])
def test_it_refuses_ducking_anywhere_but_on_audio(
    api: Any, project: Project, clip: Clip, layer: str
) -> None:
    data = body(clip, 0, 2, layer=layer, duck=True)
    if layer == "text":
        data = {"layer": "text", "start_time": 0, "duration": 2, "duck": True}

    response = api.post(segments_url(project), data, format="json")

    assert "only audio segments duck" in refused(response, "duck")


def test_it_turns_ducking_off_when_a_segment_leaves_the_audio_layer(
    api: Any, project: Project, clip: Clip
) -> None:
    made = create(api, project, clip, 0, 2, layer="audio", duck=True, volume=0.5)

    response = api.patch(segment_url(made["id"]), {"layer": "video"}, format="json")

    assert response.status_code == 200
    assert (response.json()["duck"], response.json()["volume"]) == (False, 0.5)


def test_it_keeps_fields_a_whole_timeline_save_leaves_out(
    api: Any, project: Project, clip: Clip
) -> None:
    made = create(api, project, clip, 0, 4, volume=0.5, fade_in=1, fit="fill")

    # A client that does not know the sound fields sends only the first-round ones.
    response = api.post(
        f"/api/projects/{project.id}/timeline",
        {"version": 1, "segments": [{**body(clip, 1, 4), "id": made["id"]}, body(clip, 6, 1)]},
        format="json",
    )

    assert response.status_code == 200, response.json()
    kept, new = response.json()["segments"]
    assert (kept["start_time"], kept["volume"], kept["fade_in"], kept["fit"]) == (
        1,
        0.5,
        1,
        "fill",
    )
    assert (new["volume"], new["fade_in"], new["fit"]) == (1, 0, "blur")


def test_it_validates_every_segment_of_a_whole_timeline_save(
    api: Any, project: Project, clip: Clip
) -> None:
    response = api.post(
        f"/api/projects/{project.id}/timeline",
        {"version": 0, "segments": [body(clip, 0, 2), body(clip, 2, 2, fade_in=3)]},
        format="json",
    )

    refused(response, "fade_in")
    error = response.json()["error"]
    assert error["details"]["segment"] == 1
    assert error["message"].startswith("segments[1]: ")
    assert not TimelineSegment.objects.exists()


def test_it_keeps_the_new_fields_in_history_and_restores_them(
    api: Any, project: Project, clip: Clip
) -> None:
    made = create(api, project, clip, 0, 4, volume=0.3, fade_out=1)
    api.patch(segment_url(made["id"]), {"volume": 1.8, "fit": "fill"}, format="json")
    change = TimelineChange.objects.get(project=project, version=2)

    restored = api.post(
        f"/api/projects/{project.id}/timeline/restore", {"version": 1}, format="json"
    )

    assert change.summary == "set the volume of 'beach.mp4' to 180%; set 'beach.mp4' to fill"
    assert restored.status_code == 200
    segment = restored.json()["segments"][0]
    assert (segment["volume"], segment["fade_out"], segment["fit"]) == (0.3, 1, "blur")


@pytest.mark.parametrize(
    ("values", "constraint"),
    [
        ({"volume": Decimal("2.5")}, "segment_volume_0_to_2"),
        ({"fade_in": Decimal("-1")}, "segment_fades_gte_0"),
        ({"fit": "stretch"}, "segment_fit_valid"),
        ({"duck": True}, "segment_duck_only_audio"),
        ({"transition": {"type": "crossfade", "duration": 1}, "layer": "audio"},
         "segment_transition_only_video"),
        ({"clip": None}, "segment_clip_iff_media_layer"),
        ({"text": {"content": "x"}}, "segment_text_iff_text_layer"),
    ],
)  # fmt: skip
def test_it_keeps_the_rules_in_the_database_too(
    project: Project, clip: Clip, values: dict[str, Any], constraint: str
) -> None:
    fields = {"project": project, "clip": clip, "start_time": 0, "duration": 2, **values}

    with pytest.raises(IntegrityError) as error, transaction.atomic():
        TimelineSegment.objects.create(**fields)

    # SQLite names the failed CHECK constraint; PostgreSQL too.
    assert constraint in str(error.value)


def test_it_gives_segments_made_before_fit_their_projects_fit(
    owner: Any, project: Project, clip: Clip
) -> None:
    filled = make_project(owner, name="Filled", settings={"fit": "fill"})
    filled_clip = make_clip(filled)
    for p, c in ((project, clip), (filled, filled_clip)):
        TimelineSegment.objects.create(project=p, clip=c, start_time=0, duration=1)
    migration = importlib.import_module("timeline.migrations.0003_text_sound_transitions")

    migration.segments_take_their_projects_fit(apps, None)

    assert TimelineSegment.objects.get(project=filled).fit == "fill"
    assert TimelineSegment.objects.get(project=project).fit == "blur"
