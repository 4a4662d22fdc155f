"""The media view of local-disk storage: serves a file named by a valid, unexpired media link.

Anything else answers 403 (no, a wrong or an expired signature) or 404 (no such file, a key
under the staging prefix, or S3 storage, whose links point at S3 itself). Video elements seek
with HTTP Range requests: one byte range answers 206 with `Content-Range`, an unsatisfiable one
416, and every answer says `Accept-Ranges: bytes`.

With MEDIA_X_ACCEL_REDIRECT_PREFIX set (nginx in front, see deploy/nginx.conf) the view only
checks the link and hands the file to nginx's `internal` location through `X-Accel-Redirect`,
so no application worker streams video.
"""

from __future__ import annotations

import mimetypes
import re
import time
from collections.abc import AsyncIterator, Iterator
from typing import IO, Any
from urllib.parse import quote

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.handlers.asgi import ASGIRequest
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseForbidden,
    HttpResponseNotAllowed,
    StreamingHttpResponse,
)
from django.utils.http import content_disposition_header, http_date

from clips.media_links import media_link_valid
from clips.storage import is_staging_key

BLOCK = 256 * 1024
_RANGE = re.compile(r"^\s*(\d*)\s*-\s*(\d*)\s*$")


class _Unsatisfiable(Exception):
    pass


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """The inclusive (first, last) bytes asked for, or None to send the whole file.

    A unit other than bytes and a list of several ranges are ignored (RFC 9110 allows serving
    the whole file); a malformed or unsatisfiable byte range raises _Unsatisfiable (416).
    """
    unit, _, ranges = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in ranges:
        return None
    match = _RANGE.match(ranges)
    if match is None:
        raise _Unsatisfiable()
    first, last = match.groups()
    if first:
        start = int(first)
        end = int(last) if last else size - 1
        if start >= size or end < start:
            raise _Unsatisfiable()
        return start, min(end, size - 1)
    if not last or int(last) == 0 or size == 0:
        raise _Unsatisfiable()
    return max(0, size - int(last)), size - 1


def _blocks(file: IO[bytes], start: int, length: int) -> Iterator[bytes]:
    with file:
        file.seek(start)
        while length > 0:
            block = file.read(min(BLOCK, length))
            if not block:
                break
            length -= len(block)
            yield block


async def _async_blocks(file: IO[bytes] | None, start: int, length: int) -> AsyncIterator[bytes]:
    # Under ASGI a synchronous iterator would be read into memory whole before the first byte
    # is sent; reading block by block in a thread keeps a 10 GiB original streaming.
    if file is None:
        return
    read = sync_to_async(file.read, thread_sensitive=False)
    try:
        await sync_to_async(file.seek, thread_sensitive=False)(start)
        while length > 0:
            block = await read(min(BLOCK, length))
            if not block:
                break
            length -= len(block)
            yield block
    finally:
        file.close()


def _content_type(key: str) -> str:
    return mimetypes.guess_type(key)[0] or "application/octet-stream"


def _common_headers(response: HttpResponseBase, *, key: str, expires: int, download: str) -> None:
    response["Content-Type"] = _content_type(key)
    response["Accept-Ranges"] = "bytes"
    # The link is a capability with an end: caches may keep the bytes only until then.
    response["Cache-Control"] = f"private, max-age={max(0, expires - int(time.time()))}"
    if download:
        response["Content-Disposition"] = content_disposition_header(True, download)


def media_file(request: HttpRequest, key: str) -> HttpResponseBase:
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    if is_staging_key(key) or not isinstance(default_storage, FileSystemStorage):
        raise Http404("No such file.")
    expires = request.GET.get("expires", "")
    download = request.GET.get("download", "")
    if not media_link_valid(
        key, expires=expires, signature=request.GET.get("signature", ""), download_name=download
    ):
        return HttpResponseForbidden(
            "This media link is invalid or has expired. Reload the page for a fresh one.",
            content_type="text/plain; charset=utf-8",
        )

    prefix = settings.MEDIA_X_ACCEL_REDIRECT_PREFIX
    if prefix:
        response: HttpResponseBase = HttpResponse()
        _common_headers(response, key=key, expires=int(expires), download=download)
        response["X-Accel-Redirect"] = f"{prefix.rstrip('/')}/{quote(key)}"
        return response

    try:
        size = default_storage.size(key)
        modified = default_storage.get_modified_time(key)
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise Http404("No such file.") from exc
    etag = f'"{size:x}-{int(modified.timestamp() * 1_000_000):x}"'

    wanted = request.headers.get("Range", "")
    if_range = request.headers.get("If-Range")
    if if_range is not None and if_range.strip() not in (etag, http_date(modified.timestamp())):
        wanted = ""  # the file changed since the client's copy: send all of it
    try:
        byte_range = _byte_range(wanted, size) if wanted else None
    except _Unsatisfiable:
        response = HttpResponse(status=416)
        _common_headers(response, key=key, expires=int(expires), download=download)
        response["Content-Range"] = f"bytes */{size}"
        return response

    start, end = byte_range if byte_range is not None else (0, size - 1)
    length = end - start + 1 if size else 0
    is_async = isinstance(request, ASGIRequest)
    file = default_storage.open(key, "rb") if request.method == "GET" and length else None
    content: Any
    if file is None:
        content = _async_blocks(None, 0, 0) if is_async else ()
    elif is_async:
        content = _async_blocks(file, start, length)
    else:
        content = _blocks(file, start, length)
    response = StreamingHttpResponse(content, status=206 if byte_range is not None else 200)
    _common_headers(response, key=key, expires=int(expires), download=download)
    response["Content-Length"] = str(length)
    response["ETag"] = etag
    response["Last-Modified"] = http_date(modified.timestamp())
    if byte_range is not None:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    return response
