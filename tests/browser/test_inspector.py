"""The segment inspector, the text and caption lanes, the project settings popover and the
shortcut sheet in Chromium: every value set through the page comes back from the server after
a reload. Screenshots of the inspector (video, text) and the settings popover at two sizes in
light and dark, checked for overflow."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.browser.conftest import make_clip, wait_until
from tests.browser.test_collab_panels import TOAST, new_project
from tests.browser.test_collab_panels import shoot as collab_shoot
from tests.browser.test_editor_flow import timeline_from_api, wait_saved
from tests.browser.test_sharing import api_call, sign_up

SRT = """1
00:00:00,500 --> 00:00:02,000
Welcome to the harbour

2
00:00:02,500 --> 00:00:04,250
The boats come in at dawn
"""


def shoot(page: Any, artifacts: Path, name: str, selector: str) -> None:
    collab_shoot(page, artifacts, name, selector, prefix="inspector")


def set_number(page: Any, selector: str, value: str) -> None:
    page.fill(selector, value)
    page.press(selector, "Enter")


def select_segment(page: Any, layer: str, index: int = 0) -> None:
    page.locator(f".segment.{layer}").nth(index).click()
    wait_until(page, "() => document.getElementById('inspector-body').querySelector('fieldset')")


def by_layer(timeline: dict, layer: str) -> list[dict]:
    return sorted(
        (s for s in timeline["segments"] if s["layer"] == layer), key=lambda s: s["start_time"]
    )


def test_inspector_text_captions_canvas_and_shortcuts_round_trip(
    app_server: str, page: Any, artifacts: Path, tmp_path: Path
) -> None:
    sign_up(page, app_server, "inspector-ines@example.com")
    # Templates are offered when creating a project; this one presets 16:9 and blurred fill.
    wait_until(page, "() => document.querySelectorAll('#new-project-template option').length > 2")
    assert "YouTube Short" in page.inner_text("#new-project-template")
    page.select_option("#new-project-template", "youtube_video")
    project_id = new_project(page, "Harbour short")
    created = api_call(page, "GET", f"/api/projects/{project_id}")["body"]
    assert (created["template"], created["settings"]["canvas"]) == ("youtube_video", "16:9")
    clips = [make_clip(tmp_path / f"c{i}.mp4", frequency=330 + 110 * i) for i in range(2)]
    page.set_input_files("#file-input", [str(c) for c in clips])
    wait_until(
        page,
        "() => document.querySelectorAll('.clip-card[data-status=ready]').length === 2",
        timeout=180_000,
    )
    listed = api_call(page, "GET", f"/api/projects/{project_id}/clips")["body"]["results"]
    ids = sorted(listed, key=lambda c: c["name"])
    # Two video segments back to back, so the second can have a transition from the first.
    saved = api_call(
        page,
        "POST",
        f"/api/projects/{project_id}/timeline",
        {
            "version": 0,
            "segments": [
                {"clip_id": ids[0]["id"], "layer": "video", "start_time": 0, "source_start": 0,
                 "duration": 3},
                {"clip_id": ids[1]["id"], "layer": "video", "start_time": 3, "source_start": 0,
                 "duration": 3},
            ],
        },
    )  # fmt: skip
    assert saved["status"] == 200, saved
    page.reload()
    page.wait_for_selector(".segment.video")

    # ---- a video segment: volume, fade, fit, transition ---------------------------------
    select_segment(page, "video", 1)
    set_number(page, "#insp-volume-num", "50")
    assert page.input_value("#insp-volume") == "50"
    set_number(page, "#insp-fade-in", "0.5")
    page.select_option("#insp-fit", "fill")
    page.select_option("#insp-transition", "crossfade")
    set_number(page, "#insp-transition-duration", "0.5")
    wait_saved(page)
    second = by_layer(timeline_from_api(page), "video")[1]
    assert float(second["volume"]) == 0.5, second
    assert float(second["fade_in"]) == 0.5
    assert second["fit"] == "fill"
    assert second["transition"] == {"type": "crossfade", "duration": 0.5}
    # Each change was one undo step: undo brings the transition back to 0.5 s's predecessor.
    assert page.evaluate("document.getElementById('undo').disabled") is False
    shoot(page, artifacts, "video", "#inspector")

    # A value the server would refuse is explained in the inspector and not sent.
    set_number(page, "#insp-fade-out", "2.9")
    wait_until(page, "() => !document.getElementById('inspector-error').hidden")
    assert "fit in the segment" in page.inner_text("#inspector-error")

    # The first segment has no previous one: its transition choice is disabled.
    select_segment(page, "video", 0)
    assert page.locator("#insp-transition").is_disabled()

    # ---- a text segment from a title style ---------------------------------------------
    page.keyboard.press("Escape")
    page.click("#add-text")
    page.get_by_role("menuitem", name="Lower third").click()
    page.wait_for_selector(".segment.text.is-selected")
    page.fill("#insp-content", "Ines, harbour master")
    page.fill("#insp-color", "#ffd43b")
    page.select_option("#insp-font", "lato-black")
    page.click("label[for=insp-align-center]")
    wait_saved(page)
    shoot(page, artifacts, "text", "#inspector")
    [text] = by_layer(timeline_from_api(page), "text")
    assert text["text"]["content"] == "Ines, harbour master"
    assert text["text"]["color"] == "#FFD43B"
    assert text["text"]["font"] == "lato-black"
    assert text["text"]["align"] == "center"
    assert text["text"]["background"] == "#6D5DFCE6"  # from the style
    assert float(text["duration"]) == 3
    assert page.locator(".segment.text .seg-label").inner_text() == "Ines, harbour master"

    # ---- captions: import an SRT, edit a cue --------------------------------------------
    srt = tmp_path / "harbour.srt"
    srt.write_text(SRT)
    page.set_input_files("#captions-file", str(srt))
    wait_until(page, "() => document.querySelectorAll('.segment.caption').length === 2")
    wait_until(page, TOAST, arg="2 captions")
    select_segment(page, "caption", 1)
    assert page.input_value("#insp-content") == "The boats come in at dawn"
    page.fill("#insp-content", "The boats come in at first light")
    set_number(page, "#insp-start", "2.6")
    wait_saved(page)
    href = page.get_attribute("#captions-srt", "href")
    assert href == f"/api/projects/{project_id}/captions.srt"

    # ---- canvas 9:16 in the settings popover --------------------------------------------
    page.click("#open-settings")
    page.wait_for_selector("#settings-popover:not([hidden])")
    shoot(page, artifacts, "settings", "#settings-popover")
    page.check("#canvas-9x16", force=True)
    wait_until(page, "() => document.getElementById('canvas-label').textContent === '9:16'")
    project = api_call(page, "GET", f"/api/projects/{project_id}")["body"]
    assert project["settings"]["canvas"] == "9:16"
    page.keyboard.press("Escape")
    assert page.locator("#settings-popover").is_hidden()

    # ---- after a reload everything is back from the server -----------------------------
    page.reload()
    page.wait_for_selector(".segment.caption")
    timeline = timeline_from_api(page)
    second = by_layer(timeline, "video")[1]
    assert (float(second["volume"]), float(second["fade_in"]), second["fit"]) == (0.5, 0.5, "fill")
    assert second["transition"] == {"type": "crossfade", "duration": 0.5}
    assert by_layer(timeline, "text")[0]["text"]["color"] == "#FFD43B"
    cues = by_layer(timeline, "caption")
    assert [c["text"]["content"] for c in cues] == [
        "Welcome to the harbour",
        "The boats come in at first light",
    ]
    assert float(cues[1]["start_time"]) == 2.6
    assert page.inner_text("#canvas-label") == "9:16"
    select_segment(page, "video", 1)
    assert page.input_value("#insp-volume-num") == "50"
    assert page.input_value("#insp-fit") == "fill"
    assert page.input_value("#insp-transition") == "crossfade"
    assert page.input_value("#insp-transition-duration") == "0.5"

    # ---- J/K/L: from the end J runs backwards, K stops, L plays forwards -------------------
    now = "() => { const [m, rest] = document.getElementById('time-now').textContent.split(':'); return 60 * Number(m) + Number(rest); }"
    page.locator("#timeline-scroll").click(position={"x": 5, "y": 5})
    page.keyboard.press("End")
    end = page.evaluate(now)
    assert end == 6
    page.keyboard.press("j")
    wait_until(page, f"() => ({now})() < 5.5")
    page.keyboard.press("k")
    page.wait_for_timeout(200)
    stopped = page.evaluate(now)
    page.wait_for_timeout(400)
    assert page.evaluate(now) == stopped
    page.keyboard.press("l")
    wait_until(page, f"(t) => ({now})() > t + 0.2", arg=stopped)
    page.keyboard.press("k")

    # ---- the shortcut sheet ---------------------------------------------------------------
    page.locator("#timeline-scroll").click(position={"x": 5, "y": 5})
    page.keyboard.press("?")
    sheet = page.get_by_role("dialog", name="Keyboard shortcuts")
    sheet.wait_for()
    for line in ("Split at the playhead", "Undo", "Play backwards (shuttle)", "Zoom in"):
        assert line in sheet.inner_text()
    page.keyboard.press("Escape")
    wait_until(page, "() => !document.getElementById('shortcuts-dialog').open")

    # ---- a refusal of the server shows in the inspector ----------------------------------
    select_segment(page, "caption", 0)
    page.fill("#insp-content", "   ")
    page.locator("#insp-font").focus()  # leaving the text commits it at once
    wait_until(page, "() => !document.getElementById('inspector-error').hidden", timeout=15_000)
    assert "caption" in page.inner_text("#inspector-error").lower()
    page.fill("#insp-content", "Welcome back")
    page.locator("#insp-font").focus()
    wait_saved(page)
    assert by_layer(timeline_from_api(page), "caption")[0]["text"]["content"] == "Welcome back"

    # Moving a segment off the cut drops its transition (and saves, rather than being refused).
    select_segment(page, "video", 1)
    page.keyboard.press("ArrowRight")
    wait_saved(page)
    moved = by_layer(timeline_from_api(page), "video")[1]
    assert (float(moved["start_time"]), moved["transition"]) == (3.1, None)
    assert page.locator("#inspector-error").is_hidden()
    assert page.js_errors == []
