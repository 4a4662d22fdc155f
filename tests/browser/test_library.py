"""The clip library as a creator meets it: a PNG logo becomes a still, every clip says whether
it has sound, clips are renamed in place, the audio lane refuses a clip without sound, a
refused upload explains itself without a pointless Retry, and the export dialog remembers its
choices for the project."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.browser.conftest import make_clip, wait_until
from tests.clips.test_stills import png_bomb

pytestmark = pytest.mark.slow


def make_logo(path: Path) -> Path:
    subprocess.run(
        [
            "ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=640x360",
            "-frames:v", "1", "-f", "image2", "-c:v", "png", str(path),
        ],
        check=True,
    )  # fmt: skip
    return path


def make_silent_clip(path: Path) -> Path:
    subprocess.run(
        [
            "ffmpeg", "-v", "error", "-y", "-f", "lavfi",
            "-i", "testsrc2=size=320x240:rate=30:duration=3",
            "-c:v", "libx264", "-pix_fmt", "yuv420p", str(path),
        ],
        check=True,
    )  # fmt: skip
    return path


def card(page, name: str):
    return page.locator(".clip-card", has=page.locator(".name", has_text=name))


def api_clips(page) -> list[dict]:
    project_id = page.url.rstrip("/").split("/")[-1]
    return page.evaluate(
        "async (id) => (await (await fetch(`/api/projects/${id}/clips`)).json()).results",
        project_id,
    )


def api_segments(page) -> list[dict]:
    project_id = page.url.rstrip("/").split("/")[-1]
    return page.evaluate(
        "async (id) => (await (await fetch(`/api/projects/${id}/timeline`)).json()).segments",
        project_id,
    )


def test_it_shows_stills_and_sound_renames_clips_and_remembers_export_choices(
    app_server: str, page, artifacts: Path, tmp_path: Path
) -> None:
    logo = make_logo(tmp_path / "logo.png")
    drone = make_silent_clip(tmp_path / "drone.mp4")
    voice = make_clip(tmp_path / "voice.mp4", frequency=440)
    bomb = png_bomb(tmp_path / "poster.png")

    page.goto(app_server + "/accounts/signup/")
    page.fill("input[name=email]", "library@example.com")
    page.fill("input[name=password1]", "a long and secret passphrase 11")
    page.fill("input[name=password2]", "a long and secret passphrase 11")
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(app_server + "/")
    page.fill("#new-project-name", "Channel intro")
    page.keyboard.press("Enter")
    page.wait_for_url("**/projects/*/")

    # A PNG, a clip without sound and one with sound, through the page's file input.
    page.set_input_files("#file-input", [str(logo), str(drone), str(voice)])
    page.wait_for_selector(".clip-card[data-status=ready] >> nth=2", timeout=180_000)
    still = card(page, "logo")
    assert still.locator(".badge-still").inner_text() == "Still image"
    assert still.locator(".duration").count() == 0  # a picture has no length
    assert still.locator("[role=img]").get_attribute("aria-label") == "No sound"
    assert card(page, "drone").locator("[role=img]").get_attribute("aria-label") == "No sound"
    assert card(page, "voice").locator("[role=img]").get_attribute("aria-label") == "Has sound"
    assert card(page, "voice").locator(".badge-still").count() == 0
    clips = {clip["name"]: clip for clip in api_clips(page)}
    assert clips["logo"]["duration"] is None and clips["logo"]["metadata"]["still"] is True
    page.screenshot(path=artifacts / "library-stills-and-sound.png")

    # Rename by double-clicking the name; the new name is saved.
    card(page, "voice").locator(".name").dblclick()
    page.fill(".rename-input", "Narration")
    page.keyboard.press("Enter")
    page.wait_for_selector(".clip-card .name:text-is('Narration')")
    wait_until(
        page,
        "async () => (await (await fetch(location.pathname.replace('/projects/', "
        "'/api/projects/') + 'clips')).json()).results.some((c) => c.name === 'Narration')",
    )
    # And with the rename button, from the keyboard.
    page.get_by_role("button", name="Rename clip drone").click()
    page.keyboard.press("Control+a")
    page.keyboard.type("Drone shot")
    page.keyboard.press("Enter")
    page.wait_for_selector(".clip-card .name:text-is('Drone shot')")

    # The audio lane refuses the clip without sound, and says why.
    audio_lane = page.locator("#lane-audio")
    card(page, "Drone shot").drag_to(audio_lane, target_position={"x": 20, "y": 20})
    refusal = page.locator(".toast", has_text="has no sound")
    refusal.wait_for()
    assert "cannot go on the audio lane" in refusal.inner_text()
    assert page.locator("#lane-audio .segment").count() == 0
    # The still goes on the video lane (5 s to start with) and shows in the preview; the clip
    # with sound is welcome on the audio lane.
    card(page, "logo").drag_to(page.locator("#lane-video"), target_position={"x": 3, "y": 20})
    card(page, "Narration").drag_to(audio_lane, target_position={"x": 3, "y": 20})
    page.wait_for_selector("#lane-video .segment")
    page.wait_for_selector("#lane-audio .segment")
    page.wait_for_selector("#save-state.is-saved")
    segments = {s["layer"]: s for s in api_segments(page)}
    assert segments["video"]["clip_id"] == clips["logo"]["id"]
    assert segments["video"]["duration"] == 5
    assert segments["audio"]["clip_id"] == clips["voice"]["id"]
    page.keyboard.press("Home")
    # The preview canvas shows the picture (testsrc2 is colourful; a gap would be black).
    wait_until(
        page,
        "() => { const c = document.getElementById('preview-canvas');"
        " if (c.dataset.ready !== 'true') return false;"
        " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        " let lit = 0; for (let i = 0; i < d.length; i += 4 * 97) if (d[i] + d[i + 1] + d[i + 2] > 90) lit++;"
        " return lit > d.length / (4 * 97) / 4; }",
    )
    page.screenshot(path=artifacts / "library-still-in-preview.png")

    # A decompression bomb is refused with its reason in view, and no Retry that cannot help.
    page.set_input_files("#file-input", str(bomb))
    failed = page.locator(".clip-card[data-status=failed], .upload-item.is-error")
    failed.first.wait_for(timeout=60_000)
    assert "30000x30000" in failed.first.inner_text()
    assert failed.first.locator("button", has_text="Retry").count() == 0
    assert failed.first.is_visible()
    page.screenshot(path=artifacts / "library-refused-upload.png")

    # The export dialog: choose 720p and burned-in captions, reload, and they are still chosen.
    page.get_by_role("button", name="Export", exact=True).click()
    page.locator("label.choice", has_text="720p").click()
    page.locator("label.choice", has_text="Burned in").click()
    assert page.locator("#export-dialog legend", has_text="Captions").is_visible()
    page.keyboard.press("Escape")
    page.reload()
    page.wait_for_selector(".clip-card[data-status=ready] >> nth=2")
    page.get_by_role("button", name="Export", exact=True).click()
    assert page.is_checked("input[name=preset][value='720p']")
    assert page.is_checked("input[name=captions][value=burn]")
    assert page.is_checked("input[name=format][value=mp4]")
    page.screenshot(path=artifacts / "export-remembered.png")
    # On a 1280x720 screen in the dark theme the whole dialog, Start button included, fits.
    page.set_viewport_size({"width": 1280, "height": 720})
    page.emulate_media(color_scheme="dark")
    start = page.get_by_role("button", name="Start export").bounding_box()
    assert start is not None and start["y"] + start["height"] <= 720
    page.screenshot(path=artifacts / "export-remembered-1280-dark.png")
    page.keyboard.press("Escape")
    page.screenshot(path=artifacts / "library-1280-dark.png")
    assert page.js_errors == []
