"""Captions beside an export (`captions: "sidecar"`): the caption layer as SubRip and WebVTT
files stored next to the export's file, linked from its output as `captions_url` (.srt) and
`captions_vtt_url` (.vtt)."""

from __future__ import annotations

from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from projects.models import Project
from projects.storage import export_prefix
from timeline.captions import format_srt, format_vtt
from timeline.rules import TEXT_DEFAULTS
from timeline.selectors import caption_cues

# output_data key of each stored file, by extension; the job serializer links each.
SIDECAR_KEYS = {"srt": "captions_key", "vtt": "captions_vtt_key"}


def captions_sidecar(project: Project) -> dict[str, str]:
    """The caption layer as file texts, by extension (the same the captions endpoints give)."""
    cues = caption_cues(project=project)
    return {
        "srt": format_srt(cues),
        "vtt": format_vtt(cues, defaults=TEXT_DEFAULTS["caption"]),
    }


def store_sidecar(project_id: Any, job_id: Any, texts: dict[str, str]) -> dict[str, str]:
    """Store the files under the project's exports; their storage keys by output_data key."""
    keys = {}
    for extension, text in texts.items():
        key = f"{export_prefix(project_id)}{job_id}.{extension}"
        if default_storage.exists(key):
            default_storage.delete(key)
        saved = default_storage.save(key, ContentFile(text.encode("utf-8")))
        keys[SIDECAR_KEYS[extension]] = saved
    return keys
