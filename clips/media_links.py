"""Media links: the one place that turns a storage key into a URL a browser may fetch.

A link names one stored file and works for at most MEDIA_URL_TTL seconds:

- S3: a presigned GET URL (django-storages' `S3Storage.url` with that expiry). Behind a CDN
  (`AWS_S3_CUSTOM_DOMAIN`) django-storages signs a CloudFront URL instead, with the key pair in
  `AWS_CLOUDFRONT_KEY_ID` / `AWS_CLOUDFRONT_KEY` (settings refuse a CDN domain without them).
- Local disk: `/media/<key>?expires=…&signature=…`, an HMAC (django.core.signing, SECRET_KEY)
  over the key, the expiry and the download name. `clips/media_serve.py` checks it and streams
  the file (or hands it to nginx).

Keys under the staging prefix (uploads that have not completed) never get a link.

`MediaLinks` issues the links of one request, only for objects of projects the caller may see
(`projects.selectors.project_ids_visible_among`, the one access rule). Serializers get it from
their context with `media_links_for(self.context)`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import FileSystemStorage, default_storage
from django.urls import reverse
from rest_framework import serializers

from clips.storage import is_staging_key

SIGNING_SALT = "clipseq.media-link"


def _signer() -> signing.Signer:
    return signing.Signer(salt=SIGNING_SALT)


def _payload(key: str, expires: int, download_name: str) -> str:
    # Newlines cannot occur in a storage key or in a cleaned download name: no ambiguity.
    return f"{key}\n{expires}\n{download_name}"


def safe_download_name(name: str) -> str:
    """Quotes, control and non-ASCII characters would break a Content-Disposition header."""
    cleaned = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name
    )
    return cleaned.strip() or "download"


def uses_s3() -> bool:
    from storages.backends.s3 import S3Storage

    return isinstance(default_storage, S3Storage)


def _local_expiry(now: float, ttl: int) -> int:
    """An expiry between TTL/2 and TTL from now, the same for every link issued in one half-TTL
    window: a page reloaded a minute later gets the same URLs, so browsers reuse their cache."""
    step = max(1, ttl // 2)
    return int(now // step) * step + ttl


def media_link(key: str, *, download_name: str | None = None) -> str:
    """A URL of the stored file `key` that works for at most MEDIA_URL_TTL seconds.

    No access check: use `MediaLinks` for anything a user asked for. With `download_name` the
    browser saves the file under that name instead of showing it.
    """
    if not key or is_staging_key(key):
        raise ValueError(f"no media link is issued for {key!r}")
    ttl = int(settings.MEDIA_URL_TTL)
    name = safe_download_name(download_name) if download_name else ""
    if uses_s3():
        parameters = (
            {"ResponseContentDisposition": f'attachment; filename="{name}"'} if name else None
        )
        return str(default_storage.url(key, parameters=parameters, expire=ttl))  # type: ignore[call-arg]
    if not isinstance(default_storage, FileSystemStorage):
        raise ImproperlyConfigured(
            f"Media links need FileSystemStorage or S3Storage, not {type(default_storage)!r}."
        )
    expires = _local_expiry(time.time(), ttl)
    signature = _signer().sign(_payload(key, expires, name)).rsplit(":", 1)[1]
    query = {"expires": expires, "signature": signature}
    if name:
        query["download"] = name
    return f"{reverse('media-file', kwargs={'key': key})}?{urlencode(query)}"


def media_link_valid(key: str, *, expires: str, signature: str, download_name: str = "") -> bool:
    """Whether a local link is authentic and unexpired. A link never outlives the current
    MEDIA_URL_TTL, even one issued while the setting was longer."""
    try:
        expiry = int(expires)
    except (TypeError, ValueError):
        return False
    now = time.time()
    if not now < expiry <= now + int(settings.MEDIA_URL_TTL):
        return False
    try:
        _signer().unsign(f"{_payload(key, expiry, download_name)}:{signature}")
    except signing.BadSignature:
        return False
    return True


class MediaLinks:
    """The media links of one request: issued only for objects of projects the caller may see.

    Which projects those are is asked once per project (or once per page with `prime`).
    """

    def __init__(self, user: Any) -> None:
        self.user = user
        self._visible: dict[str, bool] = {}

    def prime(self, project_ids: Iterable[uuid.UUID | str | None]) -> None:
        from projects.selectors import project_ids_visible_among

        wanted = {str(pk) for pk in project_ids if pk is not None} - set(self._visible)
        if not wanted:
            return
        visible = project_ids_visible_among(self.user, wanted)
        for pk in wanted:
            self._visible[pk] = pk in visible

    def may_see(self, project_id: uuid.UUID | str | None) -> bool:
        if project_id is None:
            return False
        self.prime([project_id])
        return self._visible[str(project_id)]

    def url(
        self,
        *,
        project_id: uuid.UUID | str | None,
        key: str,
        download_name: str | None = None,
    ) -> str | None:
        """A link to `key`, a file of an object of project `project_id`; None when there is no
        file or the caller may not see the project."""
        if not key or is_staging_key(key) or not self.may_see(project_id):
            return None
        return media_link(key, download_name=download_name)


def media_links_for(context: Mapping[str, Any]) -> MediaLinks | None:
    """The request's link issuer from a serializer context (None without a request: nobody to
    issue links to). Kept in the context so nested and listed serializers share it."""
    links = context.get("media_links")
    if links is None:
        request = context.get("request")
        if request is None:
            return None
        links = MediaLinks(request.user)
        if isinstance(context, dict):
            context["media_links"] = links
    return links


class MediaLinkListSerializer(serializers.ListSerializer):
    """Asks which projects the caller may see once for a whole page, not once per item."""

    def to_representation(self, data: Any) -> Any:
        items = data.all() if hasattr(data, "all") else data
        links = media_links_for(self.context)
        if links is not None:
            items = list(items)
            links.prime(getattr(item, "project_id", None) for item in items)
        return super().to_representation(items)
