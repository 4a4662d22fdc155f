"""Transitions: on a video segment, from the video segment that ends exactly where it starts,
centred on that cut and at most as long as the shorter of the two. Kept true when the
neighbours move: shortened or removed, each change a version of its own."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from clips.models import Clip
from clips.services.clips import clip_delete
from projects.models import Project
from tests.projects.factories import make_clip
from timeline.models import TimelineChange, TimelineSegment

CROSSFADE = {"type": "crossfade", "duration": 1}


def timeline_url(project: Project) -> str:
    return f"/api/projects/{project.id}/timeline"


def segments_url(project: Project) -> str:
    return f"/api/projects/{project.id}/timeline/segments"


def segment_url(segment_id: str) -> str:
    return f"/api/timeline/segments/{segment_id}"


def seg(clip: Clip, start: float, duration: float, **extra: Any) -> dict[str, Any]:
    return {"clip_id": str(clip.id), "start_time": start, "duration": duration, **extra}


def save(api: Any, project: Project, segments: list[dict[str, Any]]) -> Any:
    project.refresh_from_db()
    return api.post(
        timeline_url(project),
        {"version": project.timeline_version, "segments": segments},
        format="json",
    )


def create(api: Any, project: Project, clip: Clip, start: float, duration: float, **extra: Any):
    response = api.post(segments_url(project), seg(clip, start, duration, **extra), format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def refused(response: Any, field: str) -> str:
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["field"] == field
    return error["message"]


def stored_transition(segment_id: str) -> Any:
    return TimelineSegment.objects.get(pk=segment_id).transition


@pytest.mark.parametrize("kind", ["crossfade", "dip_to_black", "dip_to_white", "wipe", "slide"])
def test_it_accepts_every_transition_type_at_a_cut(
    api: Any, project: Project, clip: Clip, kind: str
) -> None:
    response = save(
        api,
        project,
        [seg(clip, 0, 4), seg(clip, 4, 2, transition={"type": kind, "duration": 0.5})],
    )

    assert response.status_code == 200, response.json()
    first, second = response.json()["segments"]
    assert (first["transition"], second["transition"]) == (None, {"type": kind, "duration": 0.5})
    assert response.json()["duration"] == 6  # a transition does not change the length


def test_it_accepts_a_transition_as_long_as_the_shorter_neighbour(
    api: Any, project: Project, clip: Clip
) -> None:
    response = save(
        api,
        project,
        [
            seg(clip, 0, 4),
            seg(clip, 4, 2, transition={"type": "crossfade", "duration": 2}),
            # The next cut's transition takes the other half of the 2-second segment.
            seg(clip, 6, 3, transition={"type": "wipe", "duration": 2}),
        ],
    )

    assert response.status_code == 200, response.json()
    assert [s["transition"] for s in response.json()["segments"]] == [
        None,
        {"type": "crossfade", "duration": 2},
        {"type": "wipe", "duration": 2},
    ]


def test_it_rounds_the_duration_to_milliseconds(api: Any, project: Project, clip: Clip) -> None:
    response = save(
        api, project, [seg(clip, 0, 2), seg(clip, 2, 2, transition={"type": "slide", "duration": 0.33333})]
    )  # fmt: skip

    assert response.json()["segments"][1]["transition"]["duration"] == 0.333


@pytest.mark.parametrize(
    ("segments", "field", "words"),
    [
        # A gap before the segment: no cut to put a transition on.
        ([(0, 3), (3.5, 2)], "transition", "ends exactly where this one starts"),
        # Longer than the previous segment (2 s).
        ([(0, 2), (2, 4)], "transition.duration", "at most 2.000 s"),
        # Longer than this segment (1.5 s).
        ([(0, 5), (5, 1.5)], "transition.duration", "at most 1.500 s"),
    ],
)
def test_it_refuses_a_transition_that_does_not_fit_its_cut(
    api: Any, project: Project, clip: Clip, segments: list, field: str, words: str
) -> None:
    (a_start, a_len), (b_start, b_len) = segments
    transition = {"type": "crossfade", "duration": 2.5}

    response = save(
        api,
        project,
        [seg(clip, a_start, a_len), seg(clip, b_start, b_len, transition=transition)],
    )

    message = refused(response, field)
    assert words in message
    assert response.json()["error"]["details"]["segment"] == 1
    assert not TimelineSegment.objects.exists()


def test_it_does_not_count_an_audio_segment_as_the_previous_one(
    api: Any, project: Project, clip: Clip
) -> None:
    response = save(
        api, project, [seg(clip, 0, 4, layer="audio"), seg(clip, 4, 2, transition=CROSSFADE)]
    )

    assert "none does" in refused(response, "transition")


@pytest.mark.parametrize(
    ("transition", "field"),
    [
        ({"type": "spin", "duration": 1}, "transition.type"),
        ({"duration": 1}, "transition.type"),
        ({"type": "wipe"}, "transition.duration"),
        ({"type": "wipe", "duration": 0}, "transition.duration"),
        ({"type": "wipe", "duration": 0.0004}, "transition.duration"),
        ({"type": "wipe", "duration": -1}, "transition.duration"),
        ({"type": "wipe", "duration": "long"}, "transition.duration"),
        ({"type": "wipe", "duration": 1, "direction": "up"}, "transition"),
        ("crossfade", "transition"),
    ],
)
def test_it_refuses_a_malformed_transition(
    api: Any, project: Project, clip: Clip, transition: Any, field: str
) -> None:
    response = save(api, project, [seg(clip, 0, 4), seg(clip, 4, 4, transition=transition)])

    refused(response, field)


def test_it_refuses_a_transition_on_an_audio_segment(
    api: Any, project: Project, clip: Clip
) -> None:
    create(api, project, clip, 0, 4)

    response = api.post(
        segments_url(project), seg(clip, 4, 2, layer="audio", transition=CROSSFADE), format="json"
    )

    assert "only video segments" in refused(response, "transition")


def test_it_sets_a_transition_with_segment_operations(
    api: Any, project: Project, clip: Clip
) -> None:
    create(api, project, clip, 0, 4)
    second = create(api, project, clip, 4, 3, transition=CROSSFADE)
    third = create(api, project, clip, 8, 2)

    changed = api.patch(
        segment_url(second["id"]), {"transition": {"type": "dip_to_black", "duration": 3}},
        format="json",
    )  # fmt: skip
    removed = api.patch(segment_url(second["id"]), {"transition": None}, format="json")
    lonely = api.patch(segment_url(third["id"]), {"transition": CROSSFADE}, format="json")

    assert second["transition"] == CROSSFADE
    assert changed.json()["transition"] == {"type": "dip_to_black", "duration": 3}
    assert removed.json()["transition"] is None
    assert "none does" in refused(lonely, "transition")
    summaries = list(
        TimelineChange.objects.filter(project=project, version__gte=4)
        .order_by("version")
        .values_list("summary", flat=True)
    )
    assert summaries == [
        "set a dip to black of 3 s into 'beach.mp4'",
        "removed the transition into 'beach.mp4'",
    ]


def test_it_checks_the_transition_when_its_segment_moves(
    api: Any, project: Project, clip: Clip
) -> None:
    create(api, project, clip, 0, 4)
    second = create(api, project, clip, 4, 3, transition=CROSSFADE)

    sent = api.patch(
        segment_url(second["id"]), {"start_time": 5, "transition": CROSSFADE}, format="json"
    )
    kept = api.patch(segment_url(second["id"]), {"start_time": 5}, format="json")

    refused(sent, "transition")
    assert kept.status_code == 200
    assert kept.json()["transition"] is None
    assert stored_transition(second["id"]) is None


def test_it_removes_the_transition_when_the_previous_segment_moves_away(
    api: Any,
    owner: Any,
    project: Project,
    clip: Clip,
    project_events: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    first = create(api, project, clip, 0, 4)
    second = create(api, project, clip, 4, 3, transition=CROSSFADE)

    with django_capture_on_commit_callbacks(execute=True):
        response = api.patch(segment_url(first["id"]), {"start_time": 10}, format="json")

    assert response.status_code == 200
    # The move is version 3; the transition's removal, version 4.
    assert response.json()["timeline_version"] == 4
    assert stored_transition(second["id"]) is None
    change = TimelineChange.objects.get(project=project, version=4)
    assert (change.kind, change.by_id) == ("update", owner.id)
    assert change.summary == (
        "removed the transition into 'beach.mp4': no video segment ends where it starts"
    )
    ops = [e for e in project_events() if e["type"] == "timeline:op"]
    assert [(e["version"], e["op"], e["segment"]["id"]) for e in ops] == [
        (3, "update", first["id"]),
        (4, "update", second["id"]),
    ]
    assert ops[1]["segment"]["transition"] is None


def test_it_removes_the_transition_when_the_previous_segment_is_deleted(
    api: Any, project: Project, clip: Clip
) -> None:
    first = create(api, project, clip, 0, 4)
    second = create(api, project, clip, 4, 3, transition=CROSSFADE)

    assert api.delete(segment_url(first["id"])).status_code == 204

    assert stored_transition(second["id"]) is None
    project.refresh_from_db()
    assert project.timeline_version == 4


def test_it_shortens_the_transition_when_the_previous_segment_shrinks(
    api: Any, project: Project, clip: Clip
) -> None:
    first = create(api, project, clip, 0, 4)
    second = create(api, project, clip, 4, 3, transition={"type": "wipe", "duration": 3})

    # Trimmed at its start: it still ends at the cut, but lasts only 1.5 s.
    response = api.patch(
        segment_url(first["id"]),
        {"start_time": 2.5, "source_start": 2.5, "duration": 1.5},
        format="json",
    )

    assert response.status_code == 200
    assert stored_transition(second["id"]) == {"type": "wipe", "duration": 1.5}
    assert TimelineChange.objects.get(project=project, version=4).summary == (
        "shortened the transition into 'beach.mp4' to 1.5 s to fit its neighbour"
    )


def test_it_shortens_a_kept_transition_when_its_own_segment_shrinks(
    api: Any, project: Project, clip: Clip
) -> None:
    create(api, project, clip, 0, 4)
    second = create(api, project, clip, 4, 3, transition={"type": "wipe", "duration": 3})

    response = api.patch(segment_url(second["id"]), {"duration": 1}, format="json")

    assert response.json()["transition"] == {"type": "wipe", "duration": 1}


def test_it_adapts_kept_transitions_in_a_whole_timeline_save(
    api: Any, project: Project, clip: Clip
) -> None:
    saved = save(api, project, [seg(clip, 0, 4), seg(clip, 4, 3, transition=CROSSFADE)])
    first, second = saved.json()["segments"]

    # A client that knows nothing of transitions moves the second segment away.
    response = save(
        api,
        project,
        [{**seg(clip, 0, 4), "id": first["id"]}, {**seg(clip, 6, 3), "id": second["id"]}],
    )

    assert response.status_code == 200, response.json()
    assert response.json()["segments"][1]["transition"] is None


def test_it_removes_transitions_into_segments_after_a_deleted_clip(
    api: Any, owner: Any, project: Project, clip: Clip
) -> None:
    other = make_clip(project, "other.mp4", duration="10.000")
    create(api, project, other, 0, 4)
    second = create(api, project, clip, 4, 3, transition=CROSSFADE)

    clip_delete(clip=other, by=owner)

    assert stored_transition(second["id"]) is None
    timeline = api.get(timeline_url(project)).json()
    assert timeline["segments"][0]["transition"] is None


def test_it_restores_a_version_with_its_transition(api: Any, project: Project, clip: Clip) -> None:
    first = create(api, project, clip, 0, 4)
    second = create(api, project, clip, 4, 3, transition=CROSSFADE)
    api.delete(segment_url(first["id"]))  # version 3, and 4 drops the transition

    response = api.post(
        f"/api/projects/{project.id}/timeline/restore", {"version": 2}, format="json"
    )

    assert response.status_code == 200
    assert [s["transition"] for s in response.json()["segments"]] == [None, CROSSFADE]
    assert stored_transition(second["id"]) == CROSSFADE


def test_it_keeps_decimal_cuts_exact(api: Any, project: Project, clip: Clip) -> None:
    # 0.1 + 0.2 is not 0.3 in floating point; the cut must still be found.
    response = save(
        api,
        project,
        [seg(clip, 0.1, 0.2), seg(clip, 0.3, 0.5, transition={"type": "crossfade", "duration": 0.2})],
    )  # fmt: skip

    assert response.status_code == 200, response.json()
    second = TimelineSegment.objects.get(start_time=Decimal("0.3"))
    moved = api.patch(segment_url(str(second.pk)), {"duration": 0.4}, format="json")
    assert moved.status_code == 200, moved.json()
    assert moved.json()["transition"] == {"type": "crossfade", "duration": 0.2}
