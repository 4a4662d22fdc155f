"""The preview draws what the export renders: a 9:16 canvas, a "fill" segment, a title, a
crossfade and a gap, read back from the preview <canvas> at paused times and compared with the
exported file's frames at the same times; and the mixer's gain envelope.

Tolerances: colours are compared per channel within COLOUR_TOLERANCE (of 255) on solid-colour
sources (the video element and FFmpeg convert YUV to RGB slightly differently); the title's box
is located in each picture and its centre and size compared within GEOMETRY_TOLERANCE of the
canvas's width and height (fonts are the same files, rasterisers differ).
"""

from __future__ import annotations

import base64
import io
import math
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest

from tests.browser.conftest import wait_until

pytestmark = pytest.mark.slow

COLOUR_TOLERANCE = 40
GEOMETRY_TOLERANCE = 0.02
RED = (255, 0, 0)
BLUE = (0, 0, 255)
BLACK = (0, 0, 0)
GREEN = (0, 255, 0)
YELLOW = (255, 255, 0)
MAGENTA = (255, 0, 255)
# Timeline times checked, and what the rules say they show.
TIMES = {"fill": 1.0, "transition": 2.0, "caption": 3.0, "gap": 4.5, "fit": 5.5}
TITLE = {
    "content": "HI",
    "font": "inter-bold",
    "size": 160,
    "color": "#FFFF00",
    "background": "#00FF00",
    "x": 0.5,
    "y": 0.25,
    "align": "center",
}
# A subtitle over the title's middle: captions stack above text.
CAPTION = {**TITLE, "content": "ok", "font": "inter", "size": 48, "background": "#FF00FF"}

Picture = tuple[int, int, list[tuple[int, int, int]]]


def solid_clip(path: Path, colour: str, frequency: int) -> Path:
    subprocess.run(
        [
            "ffmpeg", "-v", "error", "-y",
            "-f", "lavfi", "-i", f"color=c={colour}:size=320x240:rate=30:duration=3",
            "-f", "lavfi", "-i", f"sine=frequency={frequency}:duration=3",
            "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
            str(path),
        ],
        check=True,
    )  # fmt: skip
    return path


def decode(png: bytes) -> Picture:
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    return image.width, image.height, list(image.getdata())


def pixel(picture: Picture, fx: float, fy: float) -> tuple[int, int, int]:
    width, height, data = picture
    x = min(width - 1, int(fx * width))
    y = min(height - 1, int(fy * height))
    return data[y * width + x]


def near(
    colour: tuple[int, ...], expected: tuple[int, ...], tolerance: int = COLOUR_TOLERANCE
) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(colour, expected, strict=True))


def box_of(picture: Picture, colour: tuple[int, int, int]) -> tuple[float, float, float, float]:
    """Centre x, centre y, width, height (fractions of the canvas) of the pixels near `colour`."""
    width, height, data = picture
    xs: list[int] = []
    ys: list[int] = []
    for y in range(0, height, 2):
        row = y * width
        for x in range(0, width, 2):
            if near(data[row + x], colour):
                xs.append(x)
                ys.append(y)
    assert xs, f"no {colour} pixels in the picture"
    return (
        (min(xs) + max(xs)) / 2 / width,
        (min(ys) + max(ys)) / 2 / height,
        (max(xs) - min(xs)) / width,
        (max(ys) - min(ys)) / height,
    )


def share_inside(
    picture: Picture, box: tuple[float, float, float, float], colour: tuple[int, int, int]
) -> float:
    width, height, data = picture
    cx, cy, bw, bh = box
    x0, x1 = int((cx - bw / 2) * width), int((cx + bw / 2) * width)
    y0, y1 = int((cy - bh / 2) * height), int((cy + bh / 2) * height)
    inside = [data[y * width + x] for y in range(y0, y1) for x in range(x0, x1)]
    return sum(near(c, colour) for c in inside) / max(1, len(inside))


def api(page: Any, method: str, path: str, json: Any = None) -> Any:
    """A call through the page's own API client (session cookie and CSRF header)."""
    return page.evaluate(
        """async ([method, path, json]) => {
            const base = document.querySelector('script[src*="editor/main"]').src;
            const { api } = await import(new URL('../api.js', base).href);
            return api(method, path, json === null ? {} : { json });
        }""",
        [method, path, json],
    )


def seek(page: Any, seconds: float) -> None:
    """Move the playhead with the keyboard (Shift+→ one second, → one frame) and wait for the
    preview canvas to show that time, final."""
    page.focus("#to-start")
    page.keyboard.press("Home")
    whole = int(seconds)
    for _ in range(whole):
        page.keyboard.press("Shift+ArrowRight")
    for _ in range(round((seconds - whole) * 30)):
        page.keyboard.press("ArrowRight")
    wait_until(
        page,
        """(t) => { const c = document.getElementById('preview-canvas');
            return c.dataset.ready === 'true' && Math.abs(Number(c.dataset.time) - t) < 0.001; }""",
        arg=seconds,
        timeout=20_000,
    )


def canvas_png(page: Any) -> bytes:
    url = page.evaluate("() => document.getElementById('preview-canvas').toDataURL('image/png')")
    return base64.b64decode(url.split(",", 1)[1])


@pytest.fixture(scope="module")
def built(
    app_server: str, browser: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """A project made through the page and the API, with the preview's pictures at TIMES."""
    base = app_server
    media = tmp_path_factory.mktemp("preview-media")
    red = solid_clip(media / "red.mp4", "red", 440)
    blue = solid_clip(media / "blue.mp4", "blue", 660)
    context = browser.new_context(viewport={"width": 1440, "height": 900}, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(base + "/accounts/signup/")
        page.fill("input[name=email]", "preview@example.com")
        page.fill("input[name=password1]", "a long and secret passphrase 9")
        page.fill("input[name=password2]", "a long and secret passphrase 9")
        page.get_by_role("button", name="Create account").click()
        page.wait_for_url(base + "/")
        page.fill("#new-project-name", "Vertical")
        page.keyboard.press("Enter")
        page.wait_for_url("**/projects/*/")
        project_id = page.url.rstrip("/").split("/")[-1]
        page.set_input_files("#file-input", [str(red), str(blue)])
        for name in ("red", "blue"):
            page.get_by_role("button", name=f"Add {name} to the timeline").wait_for(timeout=180_000)
        clips = {
            c["name"]: c["id"]
            for c in api(page, "GET", f"/api/projects/{project_id}/clips")["results"]
        }
        api(
            page,
            "PATCH",
            f"/api/projects/{project_id}",
            {"settings": {"canvas": "9:16", "fit": "fill"}},
        )
        version = api(page, "GET", f"/api/projects/{project_id}/timeline")["version"]
        video = {"layer": "video", "volume": 1, "fade_in": 0, "fade_out": 0}
        segments = [
            {**video, "clip_id": clips["red"], "start_time": 0, "source_start": 0, "duration": 2, "fit": "fill"},
            {
                **video, "clip_id": clips["blue"], "start_time": 2, "source_start": 0.5, "duration": 2,
                "fit": "fill", "transition": {"type": "crossfade", "duration": 1},
            },
            # 4 s to 5 s: a gap.
            {**video, "clip_id": clips["red"], "start_time": 5, "source_start": 0, "duration": 1, "fit": "fit"},
            {"layer": "text", "clip_id": None, "start_time": 0.5, "source_start": 0, "duration": 3, "text": TITLE},
            {"layer": "caption", "clip_id": None, "start_time": 2.8, "source_start": 0, "duration": 0.6, "text": CAPTION},
        ]  # fmt: skip
        api(
            page,
            "POST",
            f"/api/projects/{project_id}/timeline",
            {"version": version, "segments": segments},
        )
        page.reload()
        page.wait_for_selector("#lane-video .segment")
        pictures = {}
        for name, seconds in TIMES.items():
            seek(page, seconds)
            pictures[name] = decode(canvas_png(page))
        yield {
            "page": page,
            "project_id": project_id,
            "clips": clips,
            "pictures": pictures,
            "errors": errors,
        }
    finally:
        context.close()


def test_the_preview_draws_the_timeline_as_the_rules_say(
    built: dict[str, Any], artifacts: Path
) -> None:
    pictures = built["pictures"]
    width, height, _ = pictures["fill"]
    assert width / height == pytest.approx(9 / 16, rel=0.01)

    # "fill": the 4:3 red picture covers the 9:16 canvas, no bars; the title over it.
    fill = pictures["fill"]
    for fx, fy in [(0.02, 0.02), (0.98, 0.6), (0.5, 0.98), (0.02, 0.98)]:
        assert near(pixel(fill, fx, fy), RED), (fx, fy, pixel(fill, fx, fy))
    cx, cy, bw, bh = box_of(fill, GREEN)
    assert cx == pytest.approx(TITLE["x"], abs=0.01) and cy == pytest.approx(TITLE["y"], abs=0.01)
    # The box is the text block padded by size / 4 on each side: taller than the font size.
    assert bh * height > TITLE["size"] * width / 1080
    assert 0.02 < share_inside(fill, (cx, cy, bw, bh), YELLOW) < 0.6

    # The caption is drawn over the title (its smaller box inside the title's, not hidden).
    caption = pictures["caption"]
    title_box, caption_box = box_of(caption, GREEN), box_of(caption, MAGENTA)
    assert caption_box[0] == pytest.approx(title_box[0], abs=0.01)
    assert caption_box[1] == pytest.approx(title_box[1], abs=0.01)
    assert caption_box[2] < title_box[2] and caption_box[3] < title_box[3]
    assert near(pixel(caption, 0.5, 0.8), BLUE)

    # The middle of a crossfade is half of each picture.
    mid = pixel(pictures["transition"], 0.5, 0.8)
    assert near(mid, (128, 0, 128)), mid

    # A gap is black, text and all.
    gap = pictures["gap"]
    assert all(max(c) <= 16 for c in gap[2][::97]), "the gap is not black"

    # "fit": the whole 4:3 picture across the width, black bars above and below.
    fit = pictures["fit"]
    assert (
        near(pixel(fit, 0.5, 0.5), RED)
        and near(pixel(fit, 0.5, 0.1), BLACK)
        and near(pixel(fit, 0.5, 0.9), BLACK)
    )
    band = 1080 * 3 / 4 / 1920  # the picture's height as a share of the canvas
    assert near(pixel(fit, 0.5, 0.5 - band / 2 + 0.01), RED) and near(
        pixel(fit, 0.5, 0.5 - band / 2 - 0.01), BLACK
    )

    page = built["page"]
    page.screenshot(path=artifacts / "preview-9x16.png")

    # Playing through the crossfade: the clock carries on into the next clip, which plays from
    # the pooled element that already showed it inside the transition.
    seek(page, 1.0)
    page.focus("#play")  # Space on the focused "to start" button would press it
    page.keyboard.press("Space")
    wait_until(
        page,
        "() => { const [m, s] = document.querySelector('#time-now').textContent.split(':');"
        " return Number(m) * 60 + Number(s) >= 2.7; }",
        timeout=15_000,
    )
    playing = page.evaluate(
        """() => { const v = document.getElementById('preview-video');
            return {src: v.currentSrc, paused: v.paused, t: v.currentTime}; }"""
    )
    shown = decode(canvas_png(page))
    page.keyboard.press("Space")
    assert built["clips"]["blue"] in playing["src"] and not playing["paused"]
    assert 1.1 <= playing["t"] <= 2.5  # blue from its in-point 0.5 s, 0.7 s and more past the cut
    assert near(pixel(shown, 0.5, 0.8), BLUE), pixel(shown, 0.5, 0.8)
    assert built["errors"] == []


def test_the_preview_matches_the_exported_frames(built: dict[str, Any], tmp_path: Path) -> None:
    page = built["page"]
    job = api(
        page,
        "POST",
        f"/api/projects/{built['project_id']}/export",
        {"preset": "720p", "format": "mp4"},
    )
    deadline = time.monotonic() + 300
    while True:
        job = api(page, "GET", f"/api/process/status/{job['id']}")
        if job["status"] in ("completed", "failed", "cancelled"):
            break
        assert time.monotonic() < deadline, "the export did not finish"
        time.sleep(1)
    assert job["status"] == "completed", job
    answer = page.context.request.get(urljoin(page.url, job["output_data"]["download_url"]))
    assert answer.ok
    exported = tmp_path / "export.mp4"
    exported.write_bytes(answer.body())

    for name, seconds in TIMES.items():
        frame = subprocess.run(
            ["ffmpeg", "-v", "error", "-ss", f"{seconds:.3f}", "-i", str(exported),
             "-frames:v", "1", "-f", "image2", "-c:v", "png", "-"],
            check=True, capture_output=True,
        ).stdout  # fmt: skip
        shot = decode(frame)
        preview = built["pictures"][name]
        assert shot[0] / shot[1] == pytest.approx(preview[0] / preview[1], rel=0.01), name
        for fx, fy in [(0.02, 0.02), (0.5, 0.1), (0.5, 0.5), (0.5, 0.8), (0.98, 0.6), (0.5, 0.98)]:
            got, want = pixel(preview, fx, fy), pixel(shot, fx, fy)
            assert near(got, want), (name, fx, fy, got, want)
        if name in ("fill", "transition"):
            mine, theirs = box_of(preview, GREEN), box_of(shot, GREEN)
            for a, b in zip(mine, theirs, strict=True):
                assert a == pytest.approx(b, abs=GEOMETRY_TOLERANCE), (name, mine, theirs)
            assert share_inside(preview, mine, YELLOW) == pytest.approx(
                share_inside(shot, theirs, YELLOW), abs=0.1
            )


def test_the_mixer_gain_follows_volume_fades_and_ducking(built: dict[str, Any]) -> None:
    gains = built["page"].evaluate(
        """async () => {
            const base = document.querySelector('script[src*="editor/main"]').src;
            const m = await import(new URL('mixer.js', base).href);
            const half = {layer: 'audio', start_time: 0, duration: 4, volume: 0.5};
            const faded = {layer: 'audio', start_time: 0, duration: 4, volume: 1, fade_in: 1, fade_out: 2};
            const video = {layer: 'video', start_time: 1, duration: 2, volume: 1};
            const ducked = {layer: 'audio', start_time: 0, duration: 4, volume: 1, duck: true};
            const timeline = [video, ducked];
            return {
                half: m.segmentGain(half, 2, [half]),
                outside: m.segmentGain(half, 4.5, [half]),
                fadeIn: m.segmentGain(faded, 0.5, [faded]),
                fadeOut: m.segmentGain(faded, 3.5, [faded]),
                beforeDuck: m.segmentGain(ducked, 0.9, timeline),
                ducking: m.segmentGain(ducked, 1.125, timeline),
                ducked: m.segmentGain(ducked, 2, timeline),
                unducking: m.segmentGain(ducked, 3.125, timeline),
                after: m.segmentGain(ducked, 3.5, timeline),
                silentVideo: m.segmentGain(ducked, 2, [{...video, volume: 0}, ducked]),
            };
        }"""
    )
    assert 20 * math.log10(gains["half"]) == pytest.approx(-6.02, abs=0.01)
    assert gains["outside"] == 0
    assert gains["fadeIn"] == pytest.approx(0.5) and gains["fadeOut"] == pytest.approx(0.25)
    assert gains["beforeDuck"] == 1 and gains["after"] == 1
    assert 20 * math.log10(gains["ducked"]) == pytest.approx(-12, abs=0.01)
    duck = 10 ** (-12 / 20)
    assert gains["ducking"] == pytest.approx(1 - (1 - duck) / 2)
    assert gains["unducking"] == pytest.approx(1 - (1 - duck) / 2)
    assert gains["silentVideo"] == 1


def test_the_compositor_geometry_follows_the_export(built: dict[str, Any]) -> None:
    """Canvas sizes per shape, fit/fill placement and xfade's mixes, from the pure functions."""
    found = built["page"].evaluate(
        """async () => {
            const base = document.querySelector('script[src*="editor/main"]').src;
            const c = await import(new URL('compositor.js', base).href);
            return {
                sizes: ['16:9', '9:16', '1:1', '4:5'].map((s) => c.canvasSize(s, 1080)),
                fit: c.placeRect(320, 240, 1080, 1920, 'fit'),
                fill: c.placeRect(320, 240, 1080, 1920, 'fill'),
                crossfade: c.transitionMix('crossfade', 0.25),
                black: c.transitionMix('dip_to_black', 0.5),
                white: c.transitionMix('dip_to_white', 0.95),
                wipe: c.transitionMix('wipe', 0.25),
                slide: c.transitionMix('slide', 0.25),
            };
        }"""
    )
    assert [(s["width"], s["height"]) for s in found["sizes"]] == [
        (1920, 1080),
        (1080, 1920),
        (1080, 1080),
        (1080, 1350),
    ]
    assert found["fit"] == {"x": 0, "y": 555, "w": 1080, "h": 810}
    assert found["fill"]["h"] == 1920 and found["fill"]["w"] == 2560 and found["fill"]["x"] == -740
    assert found["crossfade"]["from"] == pytest.approx(0.75)
    assert found["crossfade"]["to"] == pytest.approx(0.25)
    # fadeblack at xfade progress 0.5: the old picture gone, a third of the new one over black.
    smooth = 0.375**2 * (3 - 2 * 0.375)
    assert found["black"]["from"] == 0
    assert found["black"]["to"] == pytest.approx(0.5 * (1 - smooth))
    assert found["white"]["color"] == "#fff" and found["white"]["to"] == pytest.approx(0.95)
    assert found["wipe"]["split"] == pytest.approx(0.75)  # x > 0.75 W shows the new picture
    assert found["slide"]["offset"] == pytest.approx(0.25)
