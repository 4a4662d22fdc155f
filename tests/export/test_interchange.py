"""The timeline as OpenTimelineIO (out and back in) and as YouTube chapters."""

from __future__ import annotations

import io
import json
from decimal import Decimal

import opentimelineio as otio
import pytest

from projects.models import Project
from tests.export.conftest import lay_out
from tests.projects.factories import make_clip
from timeline.models import TimelineSegment

pytestmark = pytest.mark.django_db


def segments_of(project: Project) -> list[tuple]:
    return sorted(
        (str(s.clip_id), s.layer, s.start_time, s.source_start, s.duration)
        for s in TimelineSegment.objects.filter(project=project)
    )


@pytest.fixture
def library(project):
    beach = make_clip(project, "beach.mp4", duration="20.000")
    beach.metadata = {"r_frame_rate": "30/1"}
    beach.save(update_fields=["metadata"])
    music = make_clip(project, "music.m4a", duration="60.000")
    return beach, music


@pytest.fixture
def laid_out(project, library):
    beach, music = library
    lay_out(
        project,
        [
            {"clip": beach, "start": 0, "source_start": "1.533", "duration": "2.5", "name": "Hi"},
            {"clip": beach, "start": "4.0", "source_start": "10", "duration": 3},
            {"clip": music, "start": "0.5", "duration": 5, "layer": "audio"},
            {"clip": music, "start": "2.0", "source_start": 20, "duration": 1, "layer": "audio"},
        ],
    )
    return project


def test_it_exports_the_timeline_as_otio(api, laid_out, library):
    beach, _ = library

    response = api.get(f"/api/projects/{laid_out.pk}/timeline.otio")

    assert response.status_code == 200
    assert 'filename="Export me.otio"' in response["Content-Disposition"]
    timeline = otio.adapters.read_from_string(response.content.decode(), "otio_json")
    video = timeline.video_tracks()
    assert len(video) == 1
    kinds = [type(item).__name__ for item in video[0]]
    assert kinds == ["Clip", "Gap", "Clip"]
    first = video[0][0]
    assert first.name == "Hi"
    assert first.metadata["clip_sequencer"]["clip_id"] == str(beach.pk)
    assert first.source_range.start_time.to_seconds() == pytest.approx(1.533)
    assert video[0].range_of_child_at_index(2).start_time.to_seconds() == pytest.approx(4.0)
    # The two audio segments overlap, so they sit on two tracks.
    assert len(timeline.audio_tracks()) == 2


def test_it_imports_its_own_otio_back_unchanged(api, laid_out):
    before = segments_of(laid_out)
    document = api.get(f"/api/projects/{laid_out.pk}/timeline.otio").content
    lay_out(laid_out, [])

    response = api.post(
        f"/api/projects/{laid_out.pk}/timeline/import-otio",
        data=document,
        content_type="application/json",
    )

    assert response.status_code == 200, response.json()
    assert len(response.json()["segments"]) == 4
    assert segments_of(laid_out) == before


def test_it_imports_an_uploaded_otio_file_matching_media_by_name(api, project, library):
    beach, _ = library
    timeline = otio.schema.Timeline(name="From another editor")
    track = otio.schema.Track(kind=otio.schema.TrackKind.Video)
    rate = 25
    reference = otio.schema.ExternalReference(target_url="file:///Users/me/footage/beach.mp4")
    track.append(
        otio.schema.Clip(
            name="Opening",
            media_reference=reference,
            source_range=otio.opentime.TimeRange(
                otio.opentime.RationalTime(50, rate), otio.opentime.RationalTime(75, rate)
            ),
        )
    )
    timeline.tracks.append(track)
    upload = io.BytesIO(otio.adapters.write_to_string(timeline, "otio_json").encode())
    upload.name = "cut.otio"

    response = api.post(
        f"/api/projects/{project.pk}/timeline/import-otio", {"file": upload}, format="multipart"
    )

    assert response.status_code == 200, response.json()
    segment = TimelineSegment.objects.get(project=project)
    assert (segment.clip_id, segment.name) == (beach.pk, "Opening")
    assert (segment.start_time, segment.source_start, segment.duration) == (
        Decimal("0.000"),
        Decimal("2.000"),
        Decimal("3.000"),
    )


def test_it_refuses_media_that_are_not_clips_of_the_project(api, laid_out):
    before = segments_of(laid_out)
    timeline = otio.schema.Timeline()
    track = otio.schema.Track(kind=otio.schema.TrackKind.Video)
    track.append(
        otio.schema.Clip(
            name="B-roll",
            media_reference=otio.schema.ExternalReference(target_url="file:///x/broll.mov"),
            source_range=otio.opentime.TimeRange(duration=otio.opentime.RationalTime(30, 30)),
        )
    )
    timeline.tracks.append(track)

    response = api.post(
        f"/api/projects/{laid_out.pk}/timeline/import-otio",
        data=otio.adapters.write_to_string(timeline, "otio_json"),
        content_type="application/json",
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert "B-roll" in error["message"]
    assert segments_of(laid_out) == before


def test_it_refuses_a_document_that_is_not_otio(api, laid_out):
    response = api.post(
        f"/api/projects/{laid_out.pk}/timeline/import-otio",
        data=json.dumps({"OTIO_SCHEMA": "Clip.1", "name": "just a clip"}),
        content_type="application/json",
    )

    assert response.status_code == 400
    assert "timeline" in response.json()["error"]["message"]


def test_it_refuses_an_import_over_a_newer_save(api, laid_out):
    document = api.get(f"/api/projects/{laid_out.pk}/timeline.otio").content
    laid_out.refresh_from_db()
    stale = laid_out.timeline_version - 1

    response = api.post(
        f"/api/projects/{laid_out.pk}/timeline/import-otio?version={stale}",
        data=document,
        content_type="application/json",
    )

    assert response.status_code == 409


def test_it_hides_other_users_timelines(other_api, anon_api, laid_out):
    base = f"/api/projects/{laid_out.pk}"
    assert other_api.get(f"{base}/timeline.otio").status_code == 404
    assert other_api.get(f"{base}/chapters").status_code == 404
    imported = other_api.post(
        f"{base}/timeline/import-otio", data="{}", content_type="application/json"
    )
    assert imported.status_code == 404
    assert anon_api.get(f"{base}/timeline.otio").status_code == 401
    assert anon_api.get(f"{base}/chapters").status_code == 401


# --- YouTube chapters ---------------------------------------------------------------------------


def lay_chapters(project, clip, parts: list[tuple[str, str, str]]) -> None:
    lay_out(
        project,
        [
            {"clip": clip, "start": start, "duration": length, "name": name}
            for start, length, name in parts
        ],
    )


def test_it_lists_youtube_chapters(api, project):
    long = make_clip(project, "long.mp4", duration="100.000")
    lay_chapters(
        project,
        long,
        [
            ("0", "12.5", "Intro"),
            ("12.5", "5", "Beach"),
            ("17.5", "8", "Beach"),
            ("25.5", "20", "Sunset"),
        ],
    )

    response = api.get(f"/api/projects/{project.pk}/chapters")

    assert response.status_code == 200, response.json()
    assert response.json()["text"] == "00:00 Intro\n00:12 Beach\n00:25 Sunset\n"
    assert [c["start"] for c in response.json()["chapters"]] == [0, 12, 25]


@pytest.mark.parametrize(
    ("parts", "rule"),
    [
        ([("0", "30", "Only"), ("30", "30", "Two")], "at_least_three"),
        ([("0", "15", "A"), ("15", "5", "B"), ("20", "15", "C")], "at_least_ten_seconds"),
        ([("2", "15", "A"), ("17", "15", "B"), ("32", "15", "C")], "first_at_zero"),
    ],
)
def test_it_explains_which_youtube_rule_the_timeline_breaks(api, project, parts, rule):
    long = make_clip(project, "long.mp4", duration="100.000")
    lay_chapters(project, long, parts)

    response = api.get(f"/api/projects/{project.pk}/chapters")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["rule"] == rule
    assert error["message"].startswith("These segments cannot become YouTube chapters")


# --- Sound, picture, transitions and text in OTIO -----------------------------------------------


def full_segments(project: Project) -> list[tuple]:
    """Every field a segment carries but its id, in timeline order."""
    return [
        (
            str(s.clip_id), s.name, s.layer, s.start_time, s.source_start, s.duration, s.volume,
            s.fade_in, s.fade_out, s.fit, s.transition, s.duck, s.text,
        )
        for s in TimelineSegment.objects.filter(project=project).order_by(
            "layer", "start_time", "name"
        )
    ]  # fmt: skip


@pytest.fixture
def dressed(api, project, library):
    beach, music = library
    clip = str(beach.pk)
    response = api.post(
        f"/api/projects/{project.pk}/timeline",
        {
            "version": 0,
            "segments": [
                {"clip_id": clip, "start_time": 0, "duration": 3, "volume": 0.8, "fade_in": 0.5,
                 "fit": "fill"},
                {"clip_id": clip, "start_time": 3, "source_start": 5, "duration": 2.5,
                 "transition": {"type": "crossfade", "duration": 1}},
                {"clip_id": clip, "start_time": 5.5, "source_start": 10, "duration": 2,
                 "transition": {"type": "dip_to_white", "duration": 0.25}, "fade_out": 1,
                 "fit": "fit"},
                {"clip_id": str(music.pk), "layer": "audio", "start_time": 0, "duration": 7.5,
                 "volume": 0.4, "duck": True, "fade_in": 2, "fade_out": 2},
                {"layer": "text", "start_time": 0.5, "duration": 2, "fade_in": 0.3,
                 "text": {"content": "Beach day\nPart 1", "font": "bebas-neue", "size": 150,
                          "color": "#FFCC00", "background": None, "x": 0.1, "y": 0.2,
                          "align": "left"}},
                {"layer": "text", "start_time": 1, "duration": 3, "text": {"content": "Overlap"}},
                {"layer": "caption", "start_time": 3, "duration": 1.5,
                 "text": {"content": "Waves & wind", "background": "#00000080"}},
            ],
        },
        format="json",
    )  # fmt: skip
    assert response.status_code == 200, response.json()
    return project


def test_it_writes_transitions_and_text_in_otio_schemas(api, dressed):
    response = api.get(f"/api/projects/{dressed.pk}/timeline.otio")

    timeline = otio.adapters.read_from_string(response.content.decode(), "otio_json")
    video, *text_tracks = timeline.video_tracks()
    assert [type(item).__name__ for item in video] == [
        "Clip", "Transition", "Clip", "Transition", "Clip",
    ]  # fmt: skip
    dissolve, dip = video[1], video[3]
    assert dissolve.transition_type == otio.schema.TransitionTypes.SMPTE_Dissolve
    assert (dissolve.in_offset.to_seconds(), dissolve.out_offset.to_seconds()) == (0.5, 0.5)
    assert dip.transition_type == otio.schema.TransitionTypes.Custom
    assert dip.metadata["clip_sequencer"]["type"] == "dip_to_white"
    # Transitions take no time: the third clip still starts at 5.5 s.
    assert video.range_of_child_at_index(4).start_time.to_seconds() == pytest.approx(5.5)
    assert video[0].metadata["clip_sequencer"]["volume"] == 0.8
    assert [t.name for t in text_tracks] == ["Text 1", "Text 2", "Captions 1"]
    title = text_tracks[0][1]
    assert title.media_reference.generator_kind == "text"
    assert title.media_reference.parameters["content"] == "Beach day\nPart 1"
    assert text_tracks[0].range_of_child_at_index(1).start_time.to_seconds() == 0.5
    (audio,) = timeline.audio_tracks()
    assert audio[0].metadata["clip_sequencer"]["duck"] is True


def test_it_reads_every_field_back_from_its_own_otio(api, dressed):
    before = full_segments(dressed)
    document = api.get(f"/api/projects/{dressed.pk}/timeline.otio").content
    lay_out(dressed, [])

    response = api.post(
        f"/api/projects/{dressed.pk}/timeline/import-otio",
        data=document,
        content_type="application/json",
    )

    assert response.status_code == 200, response.json()
    assert full_segments(dressed) == before


def test_it_takes_another_editors_dissolve_as_a_crossfade_that_fits(api, project, library):
    # The media are matched to the library's beach.mp4 by name.
    track = otio.schema.Track(kind=otio.schema.TrackKind.Video)
    rate = 25
    for start in (0, 100):
        track.append(
            otio.schema.Clip(
                name=f"shot {start}",
                media_reference=otio.schema.ExternalReference(target_url="file:///beach.mp4"),
                source_range=otio.opentime.TimeRange(
                    otio.opentime.RationalTime(start, rate), otio.opentime.RationalTime(50, rate)
                ),
            )
        )
    # Three seconds, all after the cut: longer than either 2-second shot.
    track.insert(
        1,
        otio.schema.Transition(
            transition_type=otio.schema.TransitionTypes.SMPTE_Dissolve,
            in_offset=otio.opentime.RationalTime(0, rate),
            out_offset=otio.opentime.RationalTime(75, rate),
        ),
    )
    timeline = otio.schema.Timeline()
    timeline.tracks.append(track)

    response = api.post(
        f"/api/projects/{project.pk}/timeline/import-otio",
        data=otio.adapters.write_to_string(timeline, "otio_json"),
        content_type="application/json",
    )

    assert response.status_code == 200, response.json()
    first, second = response.json()["segments"]
    assert first["transition"] is None
    assert second["transition"] == {"type": "crossfade", "duration": 2}
    assert second["start_time"] == 2


def test_it_refuses_an_otio_text_that_breaks_the_rules(api, dressed):
    document = json.loads(api.get(f"/api/projects/{dressed.pk}/timeline.otio").content)
    text_track = next(t for t in document["tracks"]["children"] if t["name"] == "Text 1")
    clip = next(c for c in text_track["children"] if c["OTIO_SCHEMA"].startswith("Clip"))
    reference = clip["media_references"][clip["active_media_reference_key"]]
    reference["parameters"]["font"] = "Wingdings"

    response = api.post(
        f"/api/projects/{dressed.pk}/timeline/import-otio",
        data=json.dumps(document),
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "text.font"
