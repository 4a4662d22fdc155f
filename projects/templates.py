"""Project templates and the project settings the editor and the export read.

A template is a starting point: on project create it presets `settings` (canvas, the default
fit of new segments, export defaults); settings the creator sends win over the template's.
Changing a project's template later records the choice and changes no setting.

Settings keys with meaning (all optional; other keys are free editor preferences):
- `canvas`: the picture's aspect ratio, one of CANVASES (default "16:9").
- `fit`: how a segment whose picture has another shape fills the canvas, one of FITS
  (default "blur"); new segments take it when they do not name their own.
- `export_preset`, `export_format`, `export_captions`: what an export uses when its request
  leaves `preset`, `format` or `captions` out.
- `loudness_target`: integrated loudness of exports in LUFS (read by the export).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CANVASES = ("16:9", "9:16", "1:1", "4:5")
DEFAULT_CANVAS = "16:9"
FITS = ("fit", "fill", "blur")
DEFAULT_FIT = "blur"

# The export request's choices (API.md "Processing" and "Canvas, …"). Kept here rather than
# imported from the export engine so that project settings validate without it.
EXPORT_PRESETS = ("1080p", "720p", "source")
EXPORT_FORMATS = ("mp4", "webm")
EXPORT_CAPTIONS = ("none", "burn", "sidecar")

SETTING_CHOICES: dict[str, tuple[str, ...]] = {
    "canvas": CANVASES,
    "fit": FITS,
    "export_preset": EXPORT_PRESETS,
    "export_format": EXPORT_FORMATS,
    "export_captions": EXPORT_CAPTIONS,
}


@dataclass(frozen=True)
class Template:
    id: str
    name: str
    description: str
    settings: dict[str, Any]


# Ids are stable: they are stored in projects and named by clients. Add, never rename.
TEMPLATES: tuple[Template, ...] = (
    Template("blank", "Blank", "An empty 16:9 project with the default settings.", {}),
    Template(
        "youtube_video",
        "YouTube video",
        "Landscape 16:9 at 1080p, MP4, loudness at YouTube's -14 LUFS.",
        {
            "canvas": "16:9",
            "fit": "blur",
            "export_preset": "1080p",
            "export_format": "mp4",
            "export_captions": "sidecar",
            "loudness_target": -14,
        },
    ),
    Template(
        "youtube_short",
        "YouTube Short",
        "Vertical 9:16 at 1080x1920, captions burnt into the picture.",
        {
            "canvas": "9:16",
            "fit": "blur",
            "export_preset": "1080p",
            "export_format": "mp4",
            "export_captions": "burn",
            "loudness_target": -14,
        },
    ),
    Template(
        "highlights",
        "Highlights reel",
        "Landscape 16:9, every clip cropped to fill the frame, 1080p MP4.",
        {
            "canvas": "16:9",
            "fit": "fill",
            "export_preset": "1080p",
            "export_format": "mp4",
            "export_captions": "none",
            "loudness_target": -14,
        },
    ),
    Template(
        "square_post",
        "Square post",
        "Square 1:1 at 1080x1080 for social feeds, captions burnt in.",
        {
            "canvas": "1:1",
            "fit": "blur",
            "export_preset": "1080p",
            "export_format": "mp4",
            "export_captions": "burn",
        },
    ),
    Template(
        "portrait_post",
        "Portrait post",
        "Portrait 4:5 at 1080x1350 for social feeds, captions burnt in.",
        {
            "canvas": "4:5",
            "fit": "blur",
            "export_preset": "1080p",
            "export_format": "mp4",
            "export_captions": "burn",
        },
    ),
)

TEMPLATES_BY_ID = {template.id: template for template in TEMPLATES}
TEMPLATE_CHOICES = [(template.id, template.name) for template in TEMPLATES]


def project_fit(settings: Any) -> str:
    """The fit new segments of a project take (its `settings.fit`, else the default)."""
    fit = settings.get("fit") if isinstance(settings, dict) else None
    return fit if fit in FITS else DEFAULT_FIT


def project_canvas(settings: Any) -> str:
    canvas = settings.get("canvas") if isinstance(settings, dict) else None
    return canvas if canvas in CANVASES else DEFAULT_CANVAS
