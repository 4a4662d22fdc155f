"""Still images (a ready clip without a duration) have segments of any length; the audio layer
takes only clips with sound."""

from __future__ import annotations

from typing import Any

from clips.models import Clip
from projects.models import Project
from tests.projects.factories import make_clip
from timeline.models import TimelineSegment


def segments_url(project: Project) -> str:
    return f"/api/projects/{project.id}/timeline/segments"


def segment_url(segment_id: str) -> str:
    return f"/api/timeline/segments/{segment_id}"


def body(clip: Clip, start: float, duration: float, **extra: Any) -> dict[str, Any]:
    return {"clip_id": str(clip.id), "start_time": start, "duration": duration, **extra}


def still(project: Project) -> Clip:
    clip = make_clip(project, "poster.png", duration=None)
    clip.metadata = {"has_audio": False, "width": 1080, "height": 1350}
    clip.save(update_fields=["metadata"])
    return clip


def silent(project: Project) -> Clip:
    clip = make_clip(project, "drone.mp4", duration="30.000")
    clip.metadata = {"has_audio": False}
    clip.save(update_fields=["metadata"])
    return clip


def test_it_shows_a_still_for_as_long_as_wanted(api: Any, project: Project) -> None:
    poster = still(project)

    response = api.post(segments_url(project), body(poster, 0, 3600), format="json")
    longer = api.patch(segment_url(response.json()["id"]), {"duration": 7200}, format="json")

    assert response.status_code == 201, response.json()
    assert longer.status_code == 200, longer.json()
    assert TimelineSegment.objects.get(clip=poster).duration == 7200


def test_it_takes_stills_in_a_whole_timeline_save(api: Any, project: Project, clip: Clip) -> None:
    poster = still(project)

    response = api.post(
        f"/api/projects/{project.id}/timeline",
        {"version": 0, "segments": [body(poster, 0, 25), body(clip, 25, 5, transition=None)]},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["duration"] == 30


def test_it_still_refuses_a_clip_whose_length_is_not_known_yet(api: Any, project: Project) -> None:
    waiting = make_clip(project, "late.mp4", duration=None, status=Clip.Status.PROCESSING)

    response = api.post(segments_url(project), body(waiting, 0, 3), format="json")

    assert response.status_code == 400
    assert "not known yet" in response.json()["error"]["message"]


def test_it_refuses_a_still_on_the_audio_layer(api: Any, project: Project) -> None:
    response = api.post(
        segments_url(project), body(still(project), 0, 3, layer="audio"), format="json"
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["details"]["field"]) == ("VALIDATION_ERROR", "layer")
    assert "'poster.png' has no sound" in error["message"]


def test_it_refuses_a_clip_without_sound_on_the_audio_layer(api: Any, project: Project) -> None:
    drone = silent(project)

    on_video = api.post(segments_url(project), body(drone, 0, 3), format="json")
    on_audio = api.post(segments_url(project), body(drone, 0, 3, layer="audio"), format="json")
    moved = api.patch(segment_url(on_video.json()["id"]), {"layer": "audio"}, format="json")
    saved = api.post(
        f"/api/projects/{project.id}/timeline",
        {"version": 1, "segments": [body(drone, 0, 3, layer="audio")]},
        format="json",
    )

    assert on_video.status_code == 201
    for response in (on_audio, moved, saved):
        assert response.status_code == 400, response.json()
        assert "has no sound" in response.json()["error"]["message"]
    assert TimelineSegment.objects.get().layer == "video"


def test_it_switches_an_audio_segment_to_a_silent_clip_only_off_the_audio_layer(
    api: Any, project: Project, clip: Clip
) -> None:
    drone = silent(project)
    made = api.post(segments_url(project), body(clip, 0, 3, layer="audio"), format="json").json()

    response = api.patch(segment_url(made["id"]), {"clip_id": str(drone.id)}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "layer"
