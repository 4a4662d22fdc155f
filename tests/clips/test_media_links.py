"""Media is private: every media URL the API returns is a short-lived link, issued per request
to a caller who may see the object; the local media view refuses anything else, answers Range
requests, and never serves the bytes of an unfinished upload.

These specs run on local-disk storage in every environment (CI included, where the rest of the
suite uses S3): the app-served links exist only there. tests/clips/test_media_links_s3.py covers
presigned S3 links.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client

from clips.media_links import SIGNING_SALT, MediaLinks, media_link
from clips.models import Clip
from clips.storage import clip_derived_key, clip_original_key
from tests.clips.conftest import chunks_of, send_chunk, session
from tests.media import MediaFactory, ffmpeg


@pytest.fixture(autouse=True)
def local_storage(settings: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    media = tmp_path_factory.mktemp("local-media")
    settings.MEDIA_ROOT = media
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(media), "base_url": "/media/"},
        },
    }
    settings.UPLOAD_CHUNK_SIZE = 64 * 1024
    return media


@pytest.fixture(scope="module")
def media_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    factory = MediaFactory(tmp_path_factory.mktemp("media-links-src"))
    video = factory.normal(seconds=2)
    poster = video.parent / "poster.jpg"
    ffmpeg("-i", str(video), "-frames:v", "1", "-q:v", "4", str(poster))
    return {"proxy": video.read_bytes(), "poster": poster.read_bytes()}


@pytest.fixture
def ready_clip(project: Any, media_files: dict[str, bytes]) -> Clip:
    clip = Clip.objects.create(
        project=project,
        owner=project.owner,
        name="Beach",
        original_filename="beach.mp4",
        status=Clip.Status.READY,
        file_size=len(media_files["proxy"]),
    )
    clip.file_path = default_storage.save(
        clip_original_key(clip.pk), ContentFile(media_files["proxy"])
    )
    clip.proxy_path = default_storage.save(
        clip_derived_key(clip.pk, "proxy.mp4"), ContentFile(media_files["proxy"])
    )
    clip.thumbnail_path = default_storage.save(
        clip_derived_key(clip.pk, "poster.jpg"), ContentFile(media_files["poster"])
    )
    clip.save()
    return clip


def fetch(url: str, client: Client | None = None, **headers: str) -> Any:
    return (client or Client()).get(url, headers=headers)


def body(response: Any) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(changes)
    query = {k: v for k, v in query.items() if v is not None}
    return f"{parts.path}?{urlencode(query)}"


# --- links from the API -------------------------------------------------------------------------


def test_it_serves_a_clip_s_media_through_the_links_the_api_returns(
    api: Any, ready_clip: Clip, media_files: dict[str, bytes]
) -> None:
    clip = api.get(f"/api/clips/{ready_clip.pk}").json()

    poster = fetch(clip["thumbnail_url"])
    proxy = fetch(clip["proxy_url"])

    assert poster.status_code == 200
    assert poster["Content-Type"] == "image/jpeg"
    assert body(poster) == media_files["poster"]
    assert proxy.status_code == 200
    assert (proxy["Content-Type"], proxy["Accept-Ranges"]) == ("video/mp4", "bytes")
    assert body(proxy) == media_files["proxy"]
    # Caches may keep the bytes no longer than the link lives.
    assert 0 < int(proxy["Cache-Control"].split("max-age=")[1]) <= 3600


def test_it_issues_links_that_expire_within_the_ttl(
    api: Any, ready_clip: Clip, settings: Any
) -> None:
    settings.MEDIA_URL_TTL = 600
    before = time.time()

    url = api.get(f"/api/clips/{ready_clip.pk}").json()["proxy_url"]

    expires = int(parse_qs(urlsplit(url).query)["expires"][0])
    assert before + 300 <= expires <= time.time() + 600


def test_it_lists_clips_with_links_that_work(
    api: Any, project: Any, ready_clip: Clip, media_files: dict[str, bytes]
) -> None:
    listed = api.get(f"/api/projects/{project.pk}/clips").json()["results"]

    assert body(fetch(listed[0]["thumbnail_url"])) == media_files["poster"]


def test_it_gives_another_user_no_clip_and_no_link(other_api: Any, ready_clip: Clip) -> None:
    assert other_api.get(f"/api/clips/{ready_clip.pk}").status_code == 404
    assert other_api.get(f"/api/clips/{ready_clip.pk}/download").status_code == 404


def test_it_issues_links_only_for_projects_the_caller_may_see(
    owner: Any, other_user: Any, ready_clip: Clip
) -> None:
    key = ready_clip.thumbnail_path

    assert MediaLinks(owner).url(project_id=ready_clip.project_id, key=key) is not None
    assert MediaLinks(other_user).url(project_id=ready_clip.project_id, key=key) is None


def test_it_redirects_a_download_to_a_link_that_names_the_file(
    api: Any, ready_clip: Clip, media_files: dict[str, bytes]
) -> None:
    response = api.get(f"/api/clips/{ready_clip.pk}/download")

    assert response.status_code == 302
    fetched = fetch(response["Location"])
    assert fetched.status_code == 200
    assert 'attachment; filename="beach.mp4"' in fetched["Content-Disposition"]
    assert body(fetched) == media_files["proxy"]


# --- the media view refuses everything else -----------------------------------------------------


def test_it_refuses_a_media_path_without_a_signature_to_everyone(
    ready_clip: Clip, owner: Any, other_user: Any
) -> None:
    bare = f"/media/{ready_clip.proxy_path}"
    signed_in = Client()
    signed_in.force_login(owner)
    other = Client()
    other.force_login(other_user)
    logged_out = Client()
    logged_out.force_login(owner)
    logged_out.logout()

    for client in (Client(), other, logged_out, signed_in):
        assert fetch(bare, client).status_code == 403
    # Not the file's bytes, whatever the spelling of the path.
    assert fetch(f"/media/./{ready_clip.proxy_path}").status_code in (403, 404)
    assert fetch(f"/media/{ready_clip.proxy_path}?expires=&signature=").status_code == 403


def test_it_refuses_an_expired_link(api: Any, ready_clip: Clip, settings: Any) -> None:
    settings.MEDIA_URL_TTL = 1
    url = api.get(f"/api/clips/{ready_clip.pk}").json()["proxy_url"]
    expires = int(parse_qs(urlsplit(url).query)["expires"][0])

    time.sleep(max(0.0, expires - time.time()) + 0.2)

    response = fetch(url)
    assert response.status_code == 403
    assert b"expired" in response.content


def test_it_refuses_a_link_that_outlives_a_shortened_ttl(
    api: Any, ready_clip: Clip, settings: Any
) -> None:
    url = api.get(f"/api/clips/{ready_clip.pk}").json()["proxy_url"]

    settings.MEDIA_URL_TTL = 60

    assert fetch(url).status_code == 403


def test_it_refuses_a_tampered_link(api: Any, ready_clip: Clip, other_user: Any) -> None:
    url = api.get(f"/api/clips/{ready_clip.pk}").json()["thumbnail_url"]
    expires = int(parse_qs(urlsplit(url).query)["expires"][0])
    another_key = clip_original_key(ready_clip.pk)

    assert fetch(url).status_code == 200
    assert fetch(with_query(url, expires=str(expires + 60))).status_code == 403
    assert fetch(with_query(url, signature="A" * 43)).status_code == 403
    assert fetch(with_query(url, signature=None)).status_code == 403
    assert fetch(with_query(url, download="poster.jpg")).status_code == 403
    assert fetch(f"/media/{another_key}?{urlsplit(url).query}").status_code == 403


def test_it_answers_range_requests_with_the_asked_bytes(
    api: Any, ready_clip: Clip, media_files: dict[str, bytes]
) -> None:
    url = api.get(f"/api/clips/{ready_clip.pk}").json()["proxy_url"]
    data = media_files["proxy"]
    size = len(data)

    middle = fetch(url, Range="bytes=100-1099")
    tail = fetch(url, Range="bytes=-500")
    open_ended = fetch(url, Range=f"bytes={size - 10}-")
    past_end = fetch(url, Range=f"bytes=100-{size + 1000}")

    assert middle.status_code == 206
    assert middle["Content-Range"] == f"bytes 100-1099/{size}"
    assert (middle["Content-Length"], middle["Accept-Ranges"]) == ("1000", "bytes")
    assert middle["Content-Type"] == "video/mp4"
    assert body(middle) == data[100:1100]
    assert (tail.status_code, tail["Content-Range"]) == (
        206,
        f"bytes {size - 500}-{size - 1}/{size}",
    )
    assert body(tail) == data[-500:]
    assert body(open_ended) == data[-10:]
    assert past_end["Content-Range"] == f"bytes 100-{size - 1}/{size}"
    assert body(past_end) == data[100:]


def test_it_refuses_ranges_it_cannot_satisfy_with_416(api: Any, ready_clip: Clip) -> None:
    url = api.get(f"/api/clips/{ready_clip.pk}").json()["proxy_url"]
    size = ready_clip.file_size

    for bad in (f"bytes={size}-", f"bytes={size + 5}-{size + 10}", "bytes=9-3", "bytes=-0"):
        response = fetch(url, Range=bad)
        assert response.status_code == 416, bad
        assert response["Content-Range"] == f"bytes */{size}"


def test_it_sends_the_whole_file_when_the_range_is_not_of_bytes_or_the_file_changed(
    api: Any, ready_clip: Clip, media_files: dict[str, bytes]
) -> None:
    url = api.get(f"/api/clips/{ready_clip.pk}").json()["proxy_url"]
    first = fetch(url, Range="bytes=0-9")

    assert fetch(url, Range="seconds=1-2").status_code == 200
    assert fetch(url, Range="bytes=0-9", **{"If-Range": first["ETag"]}).status_code == 206
    changed = fetch(url, Range="bytes=0-9", **{"If-Range": '"another-version"'})
    assert changed.status_code == 200
    assert body(changed) == media_files["proxy"]


def test_it_answers_head_with_the_headers_only(api: Any, ready_clip: Clip) -> None:
    url = api.get(f"/api/clips/{ready_clip.pk}").json()["proxy_url"]

    response = Client().head(url)

    assert response.status_code == 200
    assert response["Content-Length"] == str(ready_clip.file_size)
    assert body(response) == b""


def test_it_hands_the_file_to_nginx_when_configured(
    api: Any, ready_clip: Clip, settings: Any
) -> None:
    settings.MEDIA_X_ACCEL_REDIRECT_PREFIX = "/_protected_media/"
    url = api.get(f"/api/clips/{ready_clip.pk}").json()["proxy_url"]

    response = fetch(url)
    tampered = fetch(with_query(url, signature="A" * 43))

    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == f"/_protected_media/{ready_clip.proxy_path}"
    assert response["Content-Type"] == "video/mp4"
    assert body(response) == b""
    assert tampered.status_code == 403
    assert not tampered.has_header("X-Accel-Redirect")


# --- unfinished uploads --------------------------------------------------------------------------


def test_it_keeps_an_unfinished_upload_out_of_reach(
    api: Any, start_upload: Any, chunk_size: int
) -> None:
    data = b"secret bytes " * 12_000
    started = start_upload(data)
    upload, clip_id = started["upload"], started["clip"]["id"]
    send_chunk(api, upload["id"], 0, chunks_of(data, upload["chunk_size"])[0])
    staging_key = session(upload).storage_key

    clip = api.get(f"/api/clips/{clip_id}").json()

    assert staging_key.startswith("staging/")
    assert default_storage.exists(staging_key)
    assert not default_storage.exists(clip_original_key(clip_id))
    assert all(clip[f] is None for f in ("thumbnail_url", "proxy_url", "filmstrip_url"))
    assert api.get(f"/api/clips/{clip_id}/download").status_code == 409
    with pytest.raises(ValueError):
        media_link(staging_key)
    # Even a correctly signed link to a staging key is refused.
    expires = int(time.time()) + 600
    signature = (
        signing.Signer(salt=SIGNING_SALT).sign(f"{staging_key}\n{expires}\n").rsplit(":", 1)[1]
    )
    query = urlencode({"expires": expires, "signature": signature})
    assert fetch(f"/media/{staging_key}?{query}").status_code == 404
    assert fetch(f"/media/{staging_key}").status_code == 404


def test_it_publishes_the_upload_to_the_clip_only_when_complete(
    api: Any, start_upload: Any, chunk_size: int
) -> None:
    data = bytes(range(256)) * 700
    started = start_upload(data)
    upload, clip_id = started["upload"], started["clip"]["id"]
    for index, chunk in reversed(list(enumerate(chunks_of(data, upload["chunk_size"])))):
        send_chunk(api, upload["id"], index, chunk)
    staging_key = session(upload).storage_key

    response = api.post("/api/upload/complete", {"upload_id": upload["id"]}, format="json")

    assert response.status_code == 200, response.json()
    assert not default_storage.exists(staging_key)
    download = api.get(f"/api/clips/{clip_id}/download")
    assert download.status_code == 302
    assert body(fetch(download["Location"])) == data
