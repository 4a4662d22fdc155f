"""A new user, from sign-up to a downloaded video, without leaving the browser."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser.conftest import ROOT, make_clip, probe, wait_until

pytestmark = pytest.mark.slow

SAVED = "All changes saved"


def timeline_from_api(page) -> dict:
    project_id = page.url.rstrip("/").split("/")[-1]
    return page.evaluate(
        "async (id) => (await fetch(`/api/projects/${id}/timeline`)).json()", project_id
    )


def segments_on_screen(page) -> list[dict]:
    return page.evaluate(
        """() => [...document.querySelectorAll('.segment')].map((n) => {
            const r = n.getBoundingClientRect();
            return {key: n.dataset.key, layer: n.classList.contains('audio') ? 'audio' : 'video',
                    x: r.x, y: r.y, width: r.width, height: r.height};
        }).sort((a, b) => a.x - b.x)"""
    )


def wait_saved(page) -> None:
    wait_until(
        page,
        "(text) => document.querySelector('#save-state').textContent.includes(text) && "
        "document.querySelector('#save-state').classList.contains('is-saved')",
        arg=SAVED,
        timeout=15_000,
    )


def drag(page, x0: float, y: float, x1: float) -> None:
    """A real mouse drag: press, move in steps, release."""
    page.mouse.move(x0, y)
    page.mouse.down()
    page.mouse.move(x0 + (x1 - x0) / 3, y, steps=4)
    page.mouse.move(x1, y, steps=8)
    page.mouse.up()


def save_readme_screenshot(source: Path) -> None:
    """Refresh docs/editor.png (the README's picture) when asked, or when it is missing; a
    256-colour PNG keeps the repository small."""
    target = ROOT / "docs" / "editor.png"
    if target.exists() and not os.environ.get("UPDATE_SCREENSHOTS"):
        return
    from PIL import Image

    target.parent.mkdir(exist_ok=True)
    with Image.open(source) as image:
        image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(
            target, optimize=True
        )


def press_times(page, key: str, times: int) -> None:
    for _ in range(times):
        page.keyboard.press(key)


def test_it_takes_a_new_user_from_sign_up_to_a_downloaded_video(
    app_server: str, page, artifacts: Path, tmp_path: Path
) -> None:
    clip_a = make_clip(tmp_path / "beach.mp4", frequency=440)
    clip_b = make_clip(tmp_path / "sunset.mp4", frequency=660)

    # Landing page → sign up.
    page.goto(app_server + "/")
    page.screenshot(path=artifacts / "01-landing.png")
    page.get_by_role("link", name="Create a free account").click()
    page.wait_for_url("**/accounts/signup/")
    page.fill("input[name=email]", "maker@example.com")
    page.fill("input[name=password1]", "a long and secret passphrase 7")
    page.fill("input[name=password2]", "a long and secret passphrase 7")
    page.screenshot(path=artifacts / "02-sign-up.png")
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(app_server + "/")
    page.wait_for_selector("#projects-empty:not([hidden])")
    # The storage line fills in from /api/auth/me, which may answer after the project list.
    wait_until(page, "document.querySelector('#storage-text').textContent.includes('of 10 GB')")
    page.screenshot(path=artifacts / "03-dashboard-empty.png")

    # Create a project → the editor opens, empty, saying what to do.
    page.fill("#new-project-name", "Holiday cut")
    page.get_by_role("button", name="New project").click()
    page.wait_for_url("**/projects/*/")
    page.wait_for_selector("#lane-video .lane-empty")
    assert page.input_value("#project-name") == "Holiday cut"
    # The library says what to do once it has loaded (an empty project has no clips).
    wait_until(
        page,
        "document.querySelector('#dropzone').innerText.startsWith('Start by adding your clips')",
    )
    page.screenshot(path=artifacts / "04-editor-empty.png")

    # Upload both clips through the file input: chunked, with a progress bar each.
    page.set_input_files("#file-input", [str(clip_a), str(clip_b)])
    page.wait_for_selector(".upload-item .progress")
    page.screenshot(path=artifacts / "05-uploading.png")
    page.wait_for_selector(".clip-card[data-status=ready] >> nth=1", timeout=180_000)
    page.wait_for_selector(".clip-card[data-status=ready] .clip-thumb[style*=background-image]")
    assert page.locator(".upload-item.is-error").count() == 0
    cards = page.locator(".clip-card[data-status=ready]")
    assert cards.count() == 2
    card_a = page.locator(".clip-card", has_text="beach")
    card_b = page.locator(".clip-card", has_text="sunset")

    # Place three segments by dragging clips from the library onto the video lane; drops
    # near an edge snap to it.
    lane = page.locator("#lane-video")
    card_a.drag_to(lane, target_position={"x": 3, "y": 30})
    page.wait_for_selector("#lane-video .segment")
    first = segments_on_screen(page)[0]
    pps = first["width"] / 3.0  # the clip is 3 s long
    card_b.drag_to(lane, target_position={"x": 3 * pps + 4, "y": 30})
    card_a.drag_to(lane, target_position={"x": 6 * pps + 4, "y": 30})
    wait_until(page, "document.querySelectorAll('#lane-video .segment').length === 3")
    wait_saved(page)
    placed = timeline_from_api(page)["segments"]
    assert [(s["start_time"], s["duration"]) for s in placed] == [(0, 3), (3, 3), (6, 3)]

    # Trim the first segment's out-point by dragging its handle 1 s to the left.
    seg1, seg2, seg3 = segments_on_screen(page)
    mid_y = seg1["y"] + seg1["height"] / 2
    right_edge = seg1["x"] + seg1["width"] - 3
    drag(page, right_edge, mid_y, right_edge - pps)
    # Move the second segment left: it snaps against the first one's new end.
    seg1, seg2, seg3 = segments_on_screen(page)
    drag(page, seg2["x"] + seg2["width"] / 2, mid_y, seg2["x"] + seg2["width"] / 2 - pps + 3)
    # Trim the third segment's in-point with the keyboard: playhead to 6.5 s, then "[".
    page.locator("#ruler").click(position={"x": 2, "y": 10})
    page.keyboard.press("Home")
    press_times(page, "Shift+ArrowRight", 6)
    press_times(page, "ArrowRight", 15)
    assert page.text_content("#time-now") == "0:06.50"
    page.keyboard.press("[")
    # And drag it left until it snaps against the second one.
    seg1, seg2, seg3 = segments_on_screen(page)
    drag(page, seg3["x"] + seg3["width"] / 2, mid_y, seg3["x"] + seg3["width"] / 2 - 1.5 * pps + 3)
    wait_saved(page)

    # Split at the playhead, delete a piece, then undo both: back to three segments.
    page.locator("#ruler").click(position={"x": 2, "y": 10})
    page.keyboard.press("Home")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("s")
    wait_until(page, "document.querySelectorAll('#lane-video .segment').length === 4")
    page.keyboard.press("Delete")
    wait_until(page, "document.querySelectorAll('#lane-video .segment').length === 3")
    page.keyboard.press("Control+z")
    wait_until(page, "document.querySelectorAll('#lane-video .segment').length === 4")
    page.keyboard.press("Control+z")
    wait_until(page, "document.querySelectorAll('#lane-video .segment').length === 3")
    page.keyboard.press("Control+Shift+z")
    wait_until(page, "document.querySelectorAll('#lane-video .segment').length === 4")
    page.keyboard.press("Control+z")
    wait_saved(page)

    timeline = timeline_from_api(page)
    segments = sorted(timeline["segments"], key=lambda s: s["start_time"])
    assert len(segments) == 3
    one, two, three = segments
    assert one["start_time"] == 0 and one["source_start"] == 0
    assert one["duration"] == pytest.approx(2.0, abs=0.03)  # trimmed by mouse
    assert two["start_time"] == one["start_time"] + one["duration"]  # snapped
    assert two["duration"] == 3
    assert three["source_start"] == 0.5 and three["duration"] == 2.5  # trimmed by keyboard
    assert three["start_time"] == pytest.approx(two["start_time"] + 3, abs=0.001)  # snapped
    total = timeline["duration"]
    assert total == pytest.approx(7.5, abs=0.03)
    # Space plays the timeline in sequence: past the first cut the preview shows the next clip.
    page.keyboard.press("Home")
    page.keyboard.press("Space")
    wait_until(
        page,
        "() => { const [m, s] = document.querySelector('#time-now').textContent.split(':');"
        " return Number(m) * 60 + Number(s) >= 2.4; }",
        timeout=15_000,
    )
    playing = page.evaluate(
        "() => { const v = document.getElementById('preview-video');"
        " return {src: v.currentSrc, paused: v.paused, t: v.currentTime}; }"
    )
    page.keyboard.press("Space")
    assert two["clip_id"] in playing["src"] and not playing["paused"]
    assert 0.2 <= playing["t"] <= 3.0  # inside the second clip, from its in-point
    page.keyboard.press("Home")
    page.locator("#zoom-fit").click()
    page.wait_for_timeout(300)
    page.screenshot(path=artifacts / "06-editor-timeline.png")
    save_readme_screenshot(artifacts / "06-editor-timeline.png")

    # Export at 720p and watch the bar fill up over the websocket.
    page.get_by_role("button", name="Export", exact=True).click()
    page.locator("label.choice", has_text="720p").click()
    page.evaluate(
        """() => { window.__seen = [];
        new MutationObserver(() => window.__seen.push(
            Number(document.querySelector('#export-progress').getAttribute('aria-valuenow'))))
          .observe(document.querySelector('#export-progress'), {attributes: true}); }"""
    )
    page.get_by_role("button", name="Start export").click()
    page.wait_for_selector("#export-status:not([hidden])")
    page.screenshot(path=artifacts / "07-export-running.png")
    page.wait_for_selector("#export-download:visible, #export-status.is-failed", timeout=240_000)
    assert page.is_visible("#export-download"), page.inner_text("#export-state")
    assert page.text_content("#export-pct") == "100 %"
    seen = page.evaluate("window.__seen")
    assert seen[-1] == 100 and seen == sorted(seen)
    page.screenshot(path=artifacts / "08-export-done.png")

    with page.expect_download() as download_info:
        page.click("#export-download")
    video = tmp_path / "export.mp4"
    download_info.value.save_as(video)
    info = probe(video)
    streams = {s["codec_type"]: s for s in info["streams"]}
    assert (streams["video"]["width"], streams["video"]["height"]) == (1280, 720)
    assert "audio" in streams
    assert float(info["format"]["duration"]) == pytest.approx(total, abs=0.15)

    # The jobs panel lists the export, and the dashboard shows the project with its poster.
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Jobs").click()
    page.wait_for_selector("#job-list .job-item")
    assert "Exporting the video" in page.inner_text("#job-list")
    page.screenshot(path=artifacts / "09-jobs.png")
    page.keyboard.press("Escape")
    page.goto(app_server + "/")
    page.wait_for_selector(".project-card .poster[style*=background-image]")
    assert "0:07" in page.inner_text(".project-card .meta")
    page.screenshot(path=artifacts / "10-dashboard.png")
    # Renaming from the dashboard: what the user typed stays text, never markup.
    page.get_by_role("button", name="Rename Holiday cut").click()
    page.fill(".rename-form input", "<b>Holiday</b> cut")
    page.keyboard.press("Enter")
    page.wait_for_selector(".project-card a.title")
    assert page.inner_text(".project-card .title") == "<b>Holiday</b> cut"
    assert page.locator(".project-card .title b").count() == 0
    assert page.js_errors == []
