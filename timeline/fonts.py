"""The fonts a text or caption segment may use (`text.font`), shipped with the project.

Every font is one face of an open font (OFL or Apache 2.0) committed under static/fonts/ with
its licence. The export draws text with FFmpeg from these files and the editor previews with
@font-face rules (static/fonts/fonts.css) over the very same files, so a title looks the same
in both. Ids are stable: they are stored in segments. Add fonts, never rename one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.contrib.staticfiles import finders
from django.templatetags.static import static


@dataclass(frozen=True)
class Font:
    id: str
    name: str
    # Path under the static root, e.g. "fonts/inter/Inter-Regular.otf".
    file: str
    family: str
    weight: int
    license: str

    @property
    def url(self) -> str:
        return static(self.file)


FONTS: tuple[Font, ...] = (
    Font("inter", "Inter", "fonts/inter/Inter-Regular.otf", "Inter", 400, "OFL-1.1"),
    Font("inter-bold", "Inter Bold", "fonts/inter/Inter-Bold.otf", "Inter", 700, "OFL-1.1"),
    Font(
        "bebas-neue",
        "Bebas Neue",
        "fonts/bebas-neue/BebasNeue-Regular.otf",
        "Bebas Neue",
        400,
        "OFL-1.1",
    ),
    Font(
        "roboto-condensed-bold",
        "Roboto Condensed Bold",
        "fonts/roboto-condensed/RobotoCondensed-Bold.ttf",
        "Roboto Condensed",
        700,
        "Apache-2.0",
    ),
    Font("lato-black", "Lato Black", "fonts/lato/Lato-Black.ttf", "Lato", 900, "OFL-1.1"),
    Font(
        "noto-serif-bold",
        "Noto Serif Bold",
        "fonts/noto-serif/NotoSerif-Bold.ttf",
        "Noto Serif",
        700,
        "OFL-1.1",
    ),
)

FONTS_BY_ID = {font.id: font for font in FONTS}
FONT_IDS = tuple(FONTS_BY_ID)
# Titles read best bold; captions in a regular face over their background box.
DEFAULT_TEXT_FONT = "inter-bold"
DEFAULT_CAPTION_FONT = "inter"


def font_path(font_id: str) -> Path:
    """The font file on this machine, for FFmpeg's drawtext `fontfile=`. KeyError for an id
    that is not in FONTS; FileNotFoundError if the file is missing from the install."""
    font = FONTS_BY_ID[font_id]
    found = finders.find(font.file)
    if not found or not isinstance(found, str):
        raise FileNotFoundError(f"font file {font.file} is not among the static files")
    return Path(found)
