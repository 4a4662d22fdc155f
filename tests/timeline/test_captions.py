"""Captions: POST /api/projects/:id/captions/import (SRT or WebVTT) makes the caption layer;
GET …/captions.srt and …/captions.vtt give it back."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest

from clips.models import Clip
from projects.models import Project
from timeline.models import TimelineChange, TimelineSegment

# As real tools write them: a byte order mark, Windows line ends, markup, an SSA position code,
# a cue without its number, and a multi-line cue.
SRT = (
    "\ufeff1\r\n"
    "00:00:01,000 --> 00:00:03,500\r\n"
    "<i>Hello</i> there.\r\n"
    "\r\n"
    "2\r\n"
    "00:00:04,250 --> 00:00:06,000 X1:100 X2:600 Y1:50 Y2:100\r\n"
    "{\\an8}Two lines,\r\n"
    '<font color="#ffff00">one cue.</font>\r\n'
    "\r\n"
    "01:02:03,004 --> 01:02:05,000\r\n"
    "Late & loud\r\n"
)

VTT = (
    "\ufeffWEBVTT - Interview\n"
    "Kind: captions\n"
    "\n"
    "STYLE\n"
    "::cue { color: yellow }\n"
    "\n"
    "NOTE written by hand,\n"
    "over two lines\n"
    "\n"
    "intro\n"
    "00:01.000 --> 00:02.500 align:start position:10% line:5%\n"
    "<v Ana>Ol&aacute; &amp; welcome</v>\n"
    "\n"
    "00:00:03.000 --> 00:00:04.000 size:50% vertical:rl\n"
    "Second <c.loud>cue</c> <00:00:03.500>here\n"
    "\n"
    "00:05.000 --> 00:06.000 line:-1 align:end\n"
    "Third\n"
)


def import_url(project: Project) -> str:
    return f"/api/projects/{project.id}/captions/import"


def upload(api: Any, project: Project, content: str | bytes, name: str, **query: Any) -> Any:
    data = content.encode() if isinstance(content, str) else content
    handle = io.BytesIO(data)
    handle.name = name
    suffix = "".join(f"?{k}={v}" for k, v in query.items())
    return api.post(import_url(project) + suffix, {"file": handle}, format="multipart")


def captions(project: Project) -> list[tuple[Decimal, Decimal, str]]:
    return [
        (s.start_time, s.duration, s.text["content"])
        for s in TimelineSegment.objects.filter(project=project, layer="caption").order_by(
            "start_time"
        )
    ]


def refused(response: Any) -> dict[str, Any]:
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["message"].startswith("These subtitles cannot be read.")
    return error


def test_it_imports_a_subrip_file(api: Any, project: Project) -> None:
    response = upload(api, project, SRT, "talk.srt")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["version"] == 1
    assert body["duration"] == 3725
    assert [(s["layer"], s["clip_id"]) for s in body["segments"]] == [("caption", None)] * 3
    assert captions(project) == [
        (Decimal("1.000"), Decimal("2.500"), "Hello there."),
        (Decimal("4.250"), Decimal("1.750"), "Two lines,\none cue."),
        (Decimal("3723.004"), Decimal("1.996"), "Late & loud"),
    ]
    first = body["segments"][0]
    assert first["name"] == "Hello there."
    assert first["text"]["font"] == "inter"


def test_it_imports_a_webvtt_file_with_its_cue_settings(api: Any, project: Project) -> None:
    response = upload(api, project, VTT, "interview.vtt")

    assert response.status_code == 200, response.json()
    assert captions(project) == [
        (Decimal("1.000"), Decimal("1.500"), "Olá & welcome"),
        (Decimal("3.000"), Decimal("1.000"), "Second cue here"),
        (Decimal("5.000"), Decimal("1.000"), "Third"),
    ]
    first, second, third = (s["text"] for s in response.json()["segments"])
    assert (first["align"], first["x"], first["y"]) == ("left", 0.1, 0.05)
    assert (second["align"], second["x"], second["y"]) == ("center", 0.5, 0.88)
    # line:-1 counts lines, not percent: the caption keeps its place.
    assert (third["align"], third["y"]) == ("right", 0.88)


def test_it_reads_old_mac_line_ends_and_utf16(api: Any, project: Project) -> None:
    text = "1\r00:00:00,500 --> 00:00:01,000\rÇa va\r"

    response = upload(api, project, text.encode("utf-16"), "mac.srt")

    assert response.status_code == 200, response.json()
    assert captions(project) == [(Decimal("0.5"), Decimal("0.5"), "Ça va")]


def test_it_replaces_the_caption_layer_and_nothing_else(
    api: Any, project: Project, clip: Clip
) -> None:
    api.post(
        f"/api/projects/{project.id}/timeline/segments",
        {"clip_id": str(clip.id), "start_time": 0, "duration": 10},
        format="json",
    )
    api.post(
        f"/api/projects/{project.id}/timeline/segments",
        {"layer": "text", "start_time": 0, "duration": 2, "text": {"content": "Title"}},
        format="json",
    )
    first = upload(api, project, SRT, "talk.srt").json()
    styled = next(s for s in first["segments"] if s["layer"] == "caption")
    api.patch(
        f"/api/timeline/segments/{styled['id']}",
        {"text": {"font": "roboto-condensed-bold", "size": 60, "y": 0.1}},
        format="json",
    )

    response = upload(api, project, VTT, "interview.vtt")

    assert response.status_code == 200, response.json()
    layers = sorted(s["layer"] for s in response.json()["segments"])
    assert layers == ["caption", "caption", "caption", "text", "video"]
    assert [c[2] for c in captions(project)] == ["Olá & welcome", "Second cue here", "Third"]
    new = [s["text"] for s in response.json()["segments"] if s["layer"] == "caption"]
    # The new captions look like the first one there was, unless a cue says otherwise.
    assert [(t["font"], t["size"], t["y"]) for t in new] == [
        ("roboto-condensed-bold", 60, 0.05),
        ("roboto-condensed-bold", 60, 0.1),
        ("roboto-condensed-bold", 60, 0.1),
    ]


def test_it_keeps_the_import_as_one_version(
    api: Any,
    owner: Any,
    project: Project,
    project_events: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        upload(api, project, SRT, "talk.srt")

    change = TimelineChange.objects.get(project=project)
    assert (change.version, change.by_id, change.summary) == (
        1,
        owner.id,
        "imported 3 captions from talk.srt",
    )
    ops = [e for e in project_events() if e["type"] == "timeline:op"]
    assert [(e["op"], len(e["segments"])) for e in ops] == [("replace", 3)]
    restored = api.post(
        f"/api/projects/{project.id}/timeline/restore", {"version": 0}, format="json"
    )
    assert restored.json()["segments"] == []


@pytest.mark.parametrize(
    ("content", "name", "line", "words"),
    [
        ("1\n00:00:01,000 -> 00:00:02,000\nHi\n", "a.srt", 2, "expected a time line"),
        ("1\n00:00:01,000 --> 00:00:02,000\nHi\n\n2\nHello\n", "a.srt", 6, "found 'Hello'"),
        ("00:00:05,000 --> 00:00:02,000\nBackwards\n", "a.srt", 1, "ends (2.000 s) before"),
        ("00:00:01,000 --> 00:01:75,000\nBad seconds\n", "a.srt", 1, "expected a time line"),
        ("1\n00:00:01.000 --> 00:00:02.000\nHi\n", "a.vtt", 1, "must start with the line 'WEBVTT'"),
        ("WEBVTT\n\n00:01.000 --> 00:02.00\nHi\n", "a.vtt", 3, "expected a time line"),
        ("WEBVTT\n\nlonely-identifier\n", "a.vtt", 3, "has no time line"),
        (b"1\n00:00:01,000 --> 00:00:02,000\nCaf\xe9\n", "a.srt", 3, "not UTF-8"),
    ],
)
def test_it_says_where_a_file_goes_wrong(
    api: Any, project: Project, content: Any, name: str, line: int, words: str
) -> None:
    response = upload(api, project, content, name)

    error = refused(response)
    assert error["details"]["line"] == line
    assert f"Line {line}: " in error["message"]
    assert words in error["message"]
    assert not TimelineSegment.objects.exists()


def test_it_refuses_an_empty_file_and_a_missing_one(api: Any, project: Project) -> None:
    empty = upload(api, project, "\ufeff\r\n", "empty.srt")
    missing = api.post(import_url(project), {}, format="multipart")

    assert "empty" in refused(empty)["message"]
    assert missing.status_code == 400
    assert missing.json()["error"]["details"]["field"] == "file"


def test_it_refuses_a_cue_with_too_many_words(api: Any, project: Project) -> None:
    text = "1\n00:00:01,000 --> 00:00:02,000\n" + "word " * 300 + "\n"

    response = upload(api, project, text, "long.srt")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["message"].startswith("The cue at line 2: text.content is longer than")
    assert error["details"]["line"] == 2


def test_it_refuses_a_file_too_large(api: Any, project: Project, monkeypatch: Any) -> None:
    monkeypatch.setattr("timeline.api.CAPTIONS_MAX_BYTES", 100)

    response = upload(api, project, SRT, "talk.srt")

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "FILE_TOO_LARGE"


def test_it_refuses_more_cues_than_a_timeline_holds(
    api: Any, project: Project, clip: Clip, settings: Any
) -> None:
    settings.TIMELINE_MAX_SEGMENTS = 3
    api.post(
        f"/api/projects/{project.id}/timeline/segments",
        {"clip_id": str(clip.id), "start_time": 0, "duration": 1},
        format="json",
    )

    response = upload(api, project, SRT, "talk.srt")

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"cues": 3, "max_segments": 3}


def test_it_refuses_an_import_over_a_newer_save(api: Any, project: Project) -> None:
    upload(api, project, SRT, "talk.srt")

    response = upload(api, project, VTT, "interview.vtt", version=0)

    assert response.status_code == 409
    assert len(captions(project)) == 3


def caption(api: Any, project: Project, start: float, duration: float, **text: Any) -> None:
    response = api.post(
        f"/api/projects/{project.id}/timeline/segments",
        {"layer": "caption", "start_time": start, "duration": duration, "text": text},
        format="json",
    )
    assert response.status_code == 201, response.json()


@pytest.fixture
def captioned(api: Any, project: Project) -> Project:
    # Made in reverse order: the files list them by time.
    caption(api, project, 3725.5, 1.25, content="Late <b>bold</b> & done", align="right")
    caption(api, project, 0, 1.5, content="First line\n\nsecond line")
    caption(api, project, 2, 0.001, content="Blink", x=0.25, y=0.1)
    api.post(
        f"/api/projects/{project.id}/timeline/segments",
        {"layer": "text", "start_time": 0, "duration": 3, "text": {"content": "Not a caption"}},
        format="json",
    )
    return project


def test_it_writes_the_captions_as_subrip(api: Any, captioned: Project) -> None:
    response = api.get(f"/api/projects/{captioned.id}/captions.srt")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-subrip; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="Summer trip.srt"'
    assert response.content.decode() == (
        "1\n"
        "00:00:00,000 --> 00:00:01,500\n"
        "First line\n"
        "second line\n"
        "\n"
        "2\n"
        "00:00:02,000 --> 00:00:02,001\n"
        "Blink\n"
        "\n"
        "3\n"
        "01:02:05,500 --> 01:02:06,750\n"
        "Late <b>bold</b> & done\n"
    )


def test_it_writes_the_captions_as_webvtt(api: Any, captioned: Project) -> None:
    response = api.get(f"/api/projects/{captioned.id}/captions.vtt")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/vtt; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="Summer trip.vtt"'
    assert response.content.decode() == (
        "WEBVTT\n"
        "\n"
        "00:00:00.000 --> 00:00:01.500\n"
        "First line\n"
        "second line\n"
        "\n"
        "00:00:02.000 --> 00:00:02.001 position:25% line:10%\n"
        "Blink\n"
        "\n"
        "01:02:05.500 --> 01:02:06.750 align:right\n"
        "Late &lt;b&gt;bold&lt;/b&gt; &amp; done\n"
    )


def test_it_reads_back_what_it_writes(api: Any, captioned: Project, owner: Any) -> None:
    before = [
        (s.start_time, s.duration, s.text)
        for s in TimelineSegment.objects.filter(project=captioned, layer="caption")
    ]
    for extension in ("vtt", "srt"):
        written = api.get(f"/api/projects/{captioned.id}/captions.{extension}").content

        response = upload(api, captioned, written, f"again.{extension}")

        assert response.status_code == 200, response.json()
        after = [
            (s.start_time, s.duration, s.text)
            for s in TimelineSegment.objects.filter(project=captioned, layer="caption")
        ]
        expected = before
        if extension == "srt":
            # SubRip has no cue settings (the captions take the look of the first one), and
            # its <b> is markup, not words.
            first_look = {k: v for k, v in sorted(before)[0][2].items() if k != "content"}
            expected = [
                (
                    s,
                    d,
                    {
                        **t,
                        **first_look,
                        "content": t["content"].replace("<b>", "").replace("</b>", ""),
                    },
                )
                for s, d, t in before
            ]
        # Blank lines inside a caption cannot survive either format.
        assert sorted(after) == sorted(
            (s, d, {**t, "content": t["content"].replace("\n\n", "\n")}) for s, d, t in expected
        )


def test_it_writes_empty_files_for_a_timeline_without_captions(api: Any, project: Project) -> None:
    assert api.get(f"/api/projects/{project.id}/captions.srt").content == b""
    assert api.get(f"/api/projects/{project.id}/captions.vtt").content == b"WEBVTT\n"


def test_it_hides_other_users_captions(other_api: Any, anon_api: Any, captioned: Project) -> None:
    base = f"/api/projects/{captioned.id}"
    for client, status in ((other_api, 404), (anon_api, 401)):
        assert client.get(f"{base}/captions.srt").status_code == status
        assert client.get(f"{base}/captions.vtt").status_code == status
        handle = io.BytesIO(SRT.encode())
        handle.name = "x.srt"
        response = client.post(f"{base}/captions/import", {"file": handle}, format="multipart")
        assert response.status_code == status
    assert len(captions(captioned)) == 3
