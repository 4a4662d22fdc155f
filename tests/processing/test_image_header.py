"""Image headers read from magic bytes alone: kind, declared size, animation."""

from __future__ import annotations

import struct
import zlib

from processing.images import parse_image_header


def _png(width: int, height: int, *chunks: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
    return b"\x89PNG\r\n\x1a\n" + header + b"".join(chunks) + chunk(b"IDAT", b"")


def test_it_reads_a_png_and_an_apng() -> None:
    still = parse_image_header(_png(30000, 20000))
    animated = parse_image_header(_png(64, 36, struct.pack(">I", 8) + b"acTL" + bytes(12)))

    assert still is not None and (still.kind, still.width, still.height) == ("png", 30000, 20000)
    assert not still.animated
    assert animated is not None and animated.animated


def test_it_reads_a_jpeg_frame_header_after_other_segments() -> None:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\0" + bytes(9)
    sof = b"\xff\xc0" + struct.pack(">HBHH", 17, 8, 1080, 1920) + bytes(10)
    header = parse_image_header(b"\xff\xd8" + app0 + sof)

    assert header is not None and (header.kind, header.width, header.height) == ("jpeg", 1920, 1080)


def test_it_reads_webp_flavours_and_the_animation_flag() -> None:
    def riff(body: bytes) -> bytes:
        return b"RIFF" + struct.pack("<I", len(body) + 4) + b"WEBP" + body

    lossy = riff(b"VP8 " + bytes(4) + bytes(3) + b"\x9d\x01\x2a" + struct.pack("<HH", 640, 360))
    extended = riff(
        b"VP8X"
        + bytes(4)
        + b"\x02"
        + bytes(3)
        + (99).to_bytes(3, "little")
        + (49).to_bytes(3, "little")
    )

    first = parse_image_header(lossy)
    second = parse_image_header(extended)
    assert first is not None and (first.width, first.height, first.animated) == (640, 360, False)
    assert second is not None and (second.width, second.height, second.animated) == (100, 50, True)


def test_it_says_nothing_about_other_files() -> None:
    assert parse_image_header(b"\x00\x00\x00\x18ftypmp42") is None
    assert parse_image_header(b"") is None
