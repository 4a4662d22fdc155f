"""Text and caption segments: no clip, a `text` object with defaults, overlapping anything."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from clips.models import Clip
from projects.models import Project
from timeline.models import TimelineSegment


def segments_url(project: Project) -> str:
    return f"/api/projects/{project.id}/timeline/segments"


def segment_url(segment_id: str) -> str:
    return f"/api/timeline/segments/{segment_id}"


def title(start: float = 0, duration: float = 3, **text: Any) -> dict[str, Any]:
    return {"layer": "text", "start_time": start, "duration": duration, "text": text}


def create(api: Any, project: Project, data: dict[str, Any]) -> dict[str, Any]:
    response = api.post(segments_url(project), data, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def refused(response: Any, field: str) -> str:
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["field"] == field
    return error["message"]


def test_it_adds_a_title_with_the_default_style(api: Any, project: Project) -> None:
    created = create(api, project, title(1, 3, content="Summer\nin Lisbon"))

    assert created["clip_id"] is None
    assert created["layer"] == "text"
    assert created["name"] == "Summer"
    assert created["text"] == {
        "content": "Summer\nin Lisbon",
        "font": "inter-bold",
        "size": 96,
        "color": "#FFFFFF",
        "background": None,
        "x": 0.5,
        "y": 0.5,
        "align": "center",
    }
    stored = TimelineSegment.objects.get(pk=created["id"])
    assert (stored.clip_id, stored.text, stored.source_start) == (None, created["text"], 0)
    project.refresh_from_db()
    assert project.total_duration == Decimal(4)  # text counts towards the timeline's length


def test_it_adds_a_caption_with_the_caption_style(api: Any, project: Project) -> None:
    created = create(
        api,
        project,
        {"layer": "caption", "start_time": 0, "duration": 2, "text": {"content": "Hello."}},
    )

    assert created["text"]["font"] == "inter"
    assert (created["text"]["background"], created["text"]["y"]) == ("#000000B3", 0.88)


def test_it_keeps_the_style_it_is_given(api: Any, project: Project) -> None:
    style = {
        "content": "GOAL!",
        "font": "bebas-neue",
        "size": 180.5,
        "color": "#ffcc00",
        "background": "#00000080",
        "x": 0.1,
        "y": 0.95,
        "align": "left",
    }

    created = create(api, project, title(**style))

    # Colours come back in capitals; everything else as sent.
    assert created["text"] == {**style, "color": "#FFCC00"}


def test_it_lets_text_overlap_video_and_other_text(api: Any, project: Project, clip: Clip) -> None:
    api.post(
        segments_url(project),
        {"clip_id": str(clip.id), "start_time": 0, "duration": 5},
        format="json",
    )

    first = api.post(segments_url(project), title(0, 5, content="One"), format="json")
    second = api.post(segments_url(project), title(1, 2, content="Two"), format="json")
    caption = api.post(
        segments_url(project),
        {"layer": "caption", "start_time": 1, "duration": 1, "text": {"content": "Three"}},
        format="json",
    )

    assert [r.status_code for r in (first, second, caption)] == [201, 201, 201]


def test_it_requires_words_on_a_caption(api: Any, project: Project) -> None:
    for text in ({}, {"content": "  \n "}, None):
        response = api.post(
            segments_url(project),
            {"layer": "caption", "start_time": 0, "duration": 2, "text": text},
            format="json",
        )

        assert "caption needs words" in refused(response, "text.content")


def test_it_lets_a_title_start_empty(api: Any, project: Project) -> None:
    created = create(api, project, {"layer": "text", "start_time": 0, "duration": 2})

    assert (created["text"]["content"], created["name"]) == ("", "Text")


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ({"content": 5}, "text.content"),
        ({"content": "x" * 1001}, "text.content"),
        ({"content": "bell\x07"}, "text.content"),
        ({"size": "96"}, "text.size"),
        ({"font": "Comic Sans"}, "text.font"),
        ({"size": 4}, "text.size"),
        ({"size": 1081}, "text.size"),
        ({"size": "big"}, "text.size"),
        ({"size": True}, "text.size"),
        ({"color": "white"}, "text.color"),
        ({"color": "#FFF"}, "text.color"),
        ({"color": None}, "text.color"),
        ({"background": "#12345"}, "text.background"),
        ({"x": 1.5}, "text.x"),
        ({"y": -0.1}, "text.y"),
        ({"align": "justify"}, "text.align"),
        ({"colour": "#FFFFFF"}, "text"),
        ("Hello", "text"),
    ],
)
def test_it_refuses_a_text_out_of_its_rules(
    api: Any, project: Project, text: Any, field: str
) -> None:
    response = api.post(
        segments_url(project),
        {"layer": "text", "start_time": 0, "duration": 2, "text": text},
        format="json",
    )

    message = refused(response, field)
    assert message.startswith(f"This segment: {field}") or field == "text"
    assert not TimelineSegment.objects.exists()


def test_it_refuses_characters_the_database_cannot_store(api: Any, project: Project) -> None:
    # As JSON escapes, the way a client sends them: NUL and a lone surrogate.
    for content in ("nul \\u0000", "lone \\ud800"):
        body = '{"layer": "text", "start_time": 0, "duration": 2, "text": {"content": "%s"}}'
        response = api.post(
            segments_url(project), data=body % content, content_type="application/json"
        )

        assert response.status_code == 400
        assert response.json()["error"]["details"]["field"] == "text"
    assert not TimelineSegment.objects.exists()


def test_it_names_the_fonts_it_accepts(api: Any, project: Project) -> None:
    response = api.post(segments_url(project), title(font="Papyrus"), format="json")

    error = response.json()["error"]
    fonts = [f["id"] for f in api.get("/api/fonts").json()]
    assert error["details"]["allowed"] == fonts
    assert "GET /api/fonts" in error["message"]


def test_it_refuses_a_clip_on_a_text_segment(api: Any, project: Project, clip: Clip) -> None:
    response = api.post(
        segments_url(project), {**title(content="x"), "clip_id": str(clip.id)}, format="json"
    )

    assert "have no clip" in refused(response, "clip_id")


def test_it_refuses_text_on_a_video_segment(api: Any, project: Project, clip: Clip) -> None:
    response = api.post(
        segments_url(project),
        {"clip_id": str(clip.id), "start_time": 0, "duration": 2, "text": {"content": "x"}},
        format="json",
    )

    assert "only text and caption segments carry text" in refused(response, "text")


def test_it_requires_a_clip_on_video_and_audio(api: Any, project: Project) -> None:
    for layer in ("video", "audio"):
        response = api.post(
            segments_url(project), {"layer": layer, "start_time": 0, "duration": 2}, format="json"
        )

        assert f"a {layer} segment needs a clip" in refused(response, "clip_id")


@pytest.mark.parametrize(
    ("extra", "field"), [({"volume": 0.5}, "volume"), ({"source_start": 3}, "source_start")]
)
def test_it_refuses_sound_and_source_on_text(
    api: Any, project: Project, extra: dict[str, Any], field: str
) -> None:
    response = api.post(segments_url(project), {**title(content="x"), **extra}, format="json")

    refused(response, field)


def test_it_lets_text_fade_in_and_out(api: Any, project: Project) -> None:
    created = create(api, project, {**title(0, 3, content="x"), "fade_in": 0.5, "fade_out": 1})

    assert (created["fade_in"], created["fade_out"]) == (0.5, 1)


def test_it_changes_only_the_text_keys_an_edit_sends(api: Any, project: Project) -> None:
    made = create(api, project, title(content="Old", font="lato-black", size=120, align="right"))

    response = api.patch(segment_url(made["id"]), {"text": {"content": "New"}}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["text"] == {**made["text"], "content": "New"}
    assert response.json()["name"] == "Old"  # a name, once set, is the user's


def test_it_turns_a_title_into_a_caption_keeping_its_style(api: Any, project: Project) -> None:
    made = create(api, project, title(content="Hi", font="lato-black"))

    response = api.patch(segment_url(made["id"]), {"layer": "caption"}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["layer"] == "caption"
    assert response.json()["text"] == made["text"]


def test_it_replaces_the_whole_text_in_a_whole_timeline_save(
    api: Any, project: Project, clip: Clip
) -> None:
    made = create(api, project, title(content="Old", font="lato-black"))

    response = api.post(
        f"/api/projects/{project.id}/timeline",
        {
            "version": 1,
            "segments": [
                {**title(0, 2), "id": made["id"], "text": {"content": "New"}},
                {"clip_id": str(clip.id), "start_time": 0, "duration": 2},
            ],
        },
        format="json",
    )

    assert response.status_code == 200, response.json()
    text = next(s for s in response.json()["segments"] if s["layer"] == "text")
    assert (text["id"], text["text"]["content"], text["text"]["font"]) == (
        made["id"],
        "New",
        "inter-bold",
    )


def test_it_restores_text_from_history(api: Any, project: Project) -> None:
    made = create(api, project, title(content="First", color="#FF0000"))
    api.patch(segment_url(made["id"]), {"text": {"content": "Second"}}, format="json")
    api.delete(segment_url(made["id"]))

    response = api.post(
        f"/api/projects/{project.id}/timeline/restore", {"version": 1}, format="json"
    )

    assert response.status_code == 200, response.json()
    (segment,) = response.json()["segments"]
    assert (segment["id"], segment["text"]) == (made["id"], made["text"])
    assert TimelineSegment.objects.get(pk=made["id"]).text["content"] == "First"


def test_it_moves_a_video_segment_to_the_text_layer_only_with_text(
    api: Any, project: Project, clip: Clip
) -> None:
    made = api.post(
        segments_url(project),
        {"clip_id": str(clip.id), "start_time": 0, "duration": 2},
        format="json",
    ).json()

    response = api.patch(
        segment_url(made["id"]), {"layer": "caption", "text": {"content": "Said"}}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert (response.json()["clip_id"], response.json()["text"]["content"]) == (None, "Said")
