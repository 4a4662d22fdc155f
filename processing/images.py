"""The header of a still image (PNG, JPEG, WebP, GIF), read from its magic bytes without decoding.

Why before ffprobe: a decoder told a picture is 30000x30000 refuses it only after the probe has
already shrugged (ffprobe reports a 0x0 stream and exits 0), so the size a header declares is
checked first and a decompression bomb gets a plain answer. Content decides, never the name.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

HEADER_BYTES = 64 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# JPEG start-of-frame markers (C4, C8 and CC are tables, not frames).
JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
WEBP_ANIMATION_FLAG = 0x02


@dataclass(frozen=True)
class ImageHeader:
    kind: str  # "png" | "jpeg" | "webp" | "gif"
    width: int
    height: int
    animated: bool = False


def _png(data: bytes) -> ImageHeader | None:
    if len(data) < 24 or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    # An APNG announces its animation (acTL) before the first image data.
    first_data = data.find(b"IDAT")
    control = data.find(b"acTL")
    animated = control != -1 and (first_data == -1 or control < first_data)
    return ImageHeader("png", width, height, animated)


def _jpeg(data: bytes) -> ImageHeader | None:
    offset = 2
    while offset + 9 <= len(data):
        if data[offset] != 0xFF:
            return None
        marker = data[offset + 1]
        if marker == 0xFF:  # fill byte
            offset += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            offset += 2
            continue
        (length,) = struct.unpack(">H", data[offset + 2 : offset + 4])
        if marker in JPEG_SOF:
            height, width = struct.unpack(">HH", data[offset + 5 : offset + 9])
            return ImageHeader("jpeg", width, height)
        offset += 2 + length
    return None


def _webp(data: bytes) -> ImageHeader | None:
    chunk = data[12:16]
    if chunk == b"VP8X" and len(data) >= 30:
        animated = bool(data[20] & WEBP_ANIMATION_FLAG)
        width = 1 + int.from_bytes(data[24:27], "little")
        height = 1 + int.from_bytes(data[27:30], "little")
        return ImageHeader("webp", width, height, animated)
    if chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", data[26:30])
        return ImageHeader("webp", width & 0x3FFF, height & 0x3FFF)
    if chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return ImageHeader("webp", 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF))
    return None


def _gif(data: bytes) -> ImageHeader | None:
    if len(data) < 10:
        return None
    width, height = struct.unpack("<HH", data[6:10])
    return ImageHeader("gif", width, height, animated=data.count(b"\x21\xf9\x04") > 1)


def parse_image_header(data: bytes) -> ImageHeader | None:
    """What the first bytes of a file say about the image in it, or None for anything else
    (pure)."""
    if data.startswith(PNG_SIGNATURE):
        return _png(data)
    if data.startswith(b"\xff\xd8\xff"):
        return _jpeg(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp(data)
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return _gif(data)
    return None


def image_header(path: Path) -> ImageHeader | None:
    with open(path, "rb") as handle:
        return parse_image_header(handle.read(HEADER_BYTES))
