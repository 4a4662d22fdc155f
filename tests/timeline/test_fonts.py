"""GET /api/fonts: the fonts text segments may use, each a file FFmpeg can draw with and the
browser can load from the same address."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.staticfiles import finders

from timeline.fonts import DEFAULT_CAPTION_FONT, DEFAULT_TEXT_FONT, FONTS, font_path

STATIC_FONTS = Path(settings.BASE_DIR) / "static" / "fonts"


def drawn(font_file: Path) -> bytes:
    """A 320x120 grey frame of white text drawn with `font_file` on black by FFmpeg."""
    out = subprocess.run(
        ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error",
         "-f", "lavfi", "-i", "color=c=black:s=320x120:d=0.1",
         "-vf", f"drawtext=fontfile='{font_file}':text='Title Ag':fontsize=64"
                ":fontcolor=white:x=8:y=24",
         "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "gray", "-"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    assert len(out.stdout) == 320 * 120
    return out.stdout


def test_it_lists_the_fonts_with_their_files(api: Any) -> None:
    response = api.get("/api/fonts")

    assert response.status_code == 200
    fonts = response.json()
    assert 4 <= len(fonts) <= 8
    ids = [f["id"] for f in fonts]
    assert len(set(ids)) == len(ids)
    assert {DEFAULT_TEXT_FONT, DEFAULT_CAPTION_FONT} <= set(ids)
    for font in fonts:
        assert set(font) == {"id", "name", "url", "family", "weight", "license"}
        assert font["url"].startswith(settings.STATIC_URL + "fonts/")
        assert font["url"].endswith((".otf", ".ttf"))
        assert font["license"] in ("OFL-1.1", "Apache-2.0")


def test_it_asks_for_credentials_to_list_fonts(anon_api: Any) -> None:
    assert anon_api.get("/api/fonts").status_code == 401


def test_it_ships_every_listed_font_with_its_licence() -> None:
    for font in FONTS:
        path = font_path(font.id)
        assert path.is_file() and path.stat().st_size > 10_000, font.id
        assert path.read_bytes()[:4] in (b"OTTO", b"\x00\x01\x00\x00"), font.id
        licences = [p.read_text() for p in path.parent.glob("*.txt")]
        expected = "Open Font License" if font.license == "OFL-1.1" else "Apache License"
        assert any(expected in text for text in licences), font.id


def test_it_declares_every_font_for_the_browser_under_its_id() -> None:
    css = (STATIC_FONTS / "fonts.css").read_text()
    for font in FONTS:
        relative = font.file.removeprefix("fonts/")
        assert f'font-family: "{font.id}"; src: url("{relative}")' in css, font.id


def test_it_lists_urls_that_the_static_files_serve(api: Any) -> None:
    for font in api.get("/api/fonts").json():
        # What runserver and collectstatic (hence nginx) serve at that address.
        found = finders.find(font["url"].removeprefix(settings.STATIC_URL))

        assert found is not None, font["url"]
        assert Path(str(found)).read_bytes() == font_path(font["id"]).read_bytes()


def test_it_lets_ffmpeg_draw_text_with_every_font() -> None:
    frames = {font.id: drawn(font_path(font.id)) for font in FONTS}

    for font_id, frame in frames.items():
        lit = sum(1 for value in frame if value > 128)
        # Visible text: more than a few pixels, far less than the whole frame.
        assert 500 < lit < 320 * 120 // 2, (font_id, lit)
    # Each file is really used: no two fonts draw the same picture.
    assert len(set(frames.values())) == len(frames)
