"""Media links on S3: presigned URLs that expire within MEDIA_URL_TTL, signed CloudFront URLs
behind a CDN, and uploads staged under a private prefix until they complete.

The S3 specs run against the S3 server the environment names (AWS_* variables; CI always
sets them, so there a missing server fails instead of skipping). They hold for any S3
implementation: what a server enforces beyond the signature's own terms is only asserted where
the server is seen to check signatures (moto, CI's server, does not).
"""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from clips.models import Clip
from clips.storage import clip_derived_key, clip_original_key, clip_prefix
from tests.clips.conftest import chunks_of, send_chunk, session
from tests.conftest import in_ci

needs_s3 = pytest.mark.skipif(
    not settings.USE_S3 and not in_ci(),
    reason="needs an S3 server (AWS_STORAGE_BUCKET_NAME …); CI always has one",
)


@pytest.fixture
def s3(settings: Any) -> Any:
    assert settings.USE_S3, "CI must set AWS_STORAGE_BUCKET_NAME: these specs need S3"
    return default_storage


def object_key(name: str) -> str:
    from processing.files import s3_target

    target = s3_target()
    assert target is not None
    return target.key(name)


def stored_keys(prefix: str) -> list[str]:
    client = default_storage.connection.meta.client
    answer = client.list_objects_v2(Bucket=default_storage.bucket_name, Prefix=object_key(prefix))
    return [item["Key"] for item in answer.get("Contents", [])]


def open_multipart_uploads(name: str) -> list[str]:
    client = default_storage.connection.meta.client
    answer = client.list_multipart_uploads(
        Bucket=default_storage.bucket_name, Prefix=object_key(name)
    )
    return [item["UploadId"] for item in answer.get("Uploads", [])]


def signature_checked() -> bool:
    """Whether the server refuses a presigned URL with a wrong signature (real S3, MinIO)."""
    key = default_storage.save("probe/signature.txt", ContentFile(b"probe"))
    try:
        url = default_storage.url(key)
        forged = url.replace("X-Amz-Signature=", "X-Amz-Signature=0")
        return requests.get(forged, timeout=10).status_code == 403
    finally:
        default_storage.delete(key)


@pytest.fixture
def s3_clip(s3: Any, project: Any) -> tuple[Clip, bytes]:
    data = bytes(range(256)) * 64
    clip = Clip.objects.create(
        project=project, owner=project.owner, name="Reef", status=Clip.Status.READY
    )
    clip.proxy_path = default_storage.save(
        clip_derived_key(clip.pk, "proxy.mp4"), ContentFile(data)
    )
    clip.file_path = default_storage.save(clip_original_key(clip.pk), ContentFile(data))
    clip.original_filename = "reef.mp4"
    clip.save()
    return clip, data


@needs_s3
def test_it_issues_presigned_links_that_expire_within_the_ttl(
    api: Any, s3_clip: tuple[Clip, bytes], settings: Any
) -> None:
    clip, data = s3_clip
    settings.MEDIA_URL_TTL = 120

    url = api.get(f"/api/clips/{clip.pk}").json()["proxy_url"]

    query = parse_qs(urlsplit(url).query)
    issued = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert query["X-Amz-Expires"] == ["120"]
    assert abs(issued.timestamp() - time.time()) < 30
    assert query["X-Amz-Signature"][0]
    fetched = requests.get(url, timeout=10)
    assert (fetched.status_code, fetched.content) == (200, data)
    ranged = requests.get(url, headers={"Range": "bytes=10-19"}, timeout=10)
    assert (ranged.status_code, ranged.content) == (206, data[10:20])
    assert ranged.headers["Content-Range"] == f"bytes 10-19/{len(data)}"


@needs_s3
def test_it_refuses_an_expired_presigned_link(
    api: Any, s3_clip: tuple[Clip, bytes], settings: Any
) -> None:
    clip, _ = s3_clip
    settings.MEDIA_URL_TTL = 1
    url = api.get(f"/api/clips/{clip.pk}").json()["proxy_url"]
    query = parse_qs(urlsplit(url).query)
    issued = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)

    # The link's own, signed terms: it is dead one second after it was issued.
    assert issued.timestamp() + int(query["X-Amz-Expires"][0]) <= time.time() + 1
    time.sleep(2.5)
    if signature_checked():
        assert requests.get(url, timeout=10).status_code == 403


@needs_s3
def test_it_redirects_a_download_to_a_presigned_link_that_names_the_file(
    api: Any, s3_clip: tuple[Clip, bytes]
) -> None:
    clip, data = s3_clip

    response = api.get(f"/api/clips/{clip.pk}/download")

    assert response.status_code == 302
    assert "X-Amz-Expires=3600" in response["Location"]
    fetched = requests.get(response["Location"], timeout=10)
    assert fetched.content == data
    assert fetched.headers["Content-Disposition"] == 'attachment; filename="reef.mp4"'


@needs_s3
def test_it_stages_an_unfinished_upload_and_publishes_it_on_completion(
    s3: Any, api: Any, start_upload: Any, payload: bytes
) -> None:
    started = start_upload(payload)
    upload, clip_id = started["upload"], started["clip"]["id"]
    chunks = chunks_of(payload, upload["chunk_size"])
    for index, chunk in enumerate(chunks):
        assert send_chunk(api, upload["id"], index, chunk).status_code == 200
    staging_key = session(upload).storage_key

    clip = api.get(f"/api/clips/{clip_id}").json()

    assert staging_key.startswith("staging/")
    assert open_multipart_uploads(staging_key) == [session(upload).multipart_upload_id]
    assert stored_keys(clip_prefix(clip_id)) == []
    assert (clip["proxy_url"], clip["thumbnail_url"]) == (None, None)
    assert api.get(f"/api/clips/{clip_id}/download").status_code == 409

    response = api.post("/api/upload/complete", {"upload_id": upload["id"]}, format="json")

    assert response.status_code == 200, response.json()
    assert stored_keys(staging_key) == []
    assert open_multipart_uploads(staging_key) == []
    assert stored_keys(clip_prefix(clip_id)) == [object_key(clip_original_key(clip_id))]
    location = api.get(f"/api/clips/{clip_id}/download")["Location"]
    assert requests.get(location, timeout=30).content == payload


@needs_s3
def test_it_publishes_a_large_upload_with_a_multipart_copy(
    s3: Any, api: Any, start_upload: Any, payload: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Parts of 5 MiB (S3's smallest) turn this 12.5 MiB upload into three part copies.
    monkeypatch.setattr("clips.chunks.PUBLISH_COPY_PART_SIZE", 5 * 1024**2)
    started = start_upload(payload)
    upload, clip_id = started["upload"], started["clip"]["id"]
    for index, chunk in enumerate(chunks_of(payload, upload["chunk_size"])):
        send_chunk(api, upload["id"], index, chunk)

    response = api.post("/api/upload/complete", {"upload_id": upload["id"]}, format="json")

    assert response.status_code == 200, response.json()
    with default_storage.open(clip_original_key(clip_id), "rb") as stored:
        assert stored.read() == payload


# --- behind a CDN: signed CloudFront URLs (no server needed to check them) ----------------------


@pytest.fixture
def cloudfront(settings: Any) -> Any:
    """S3 storage behind a CloudFront domain with a freshly made key pair; returns the public
    key that CloudFront would hold."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": "clipseq-cdn-spec",
                "custom_domain": "cdn.clips.example.com",
                "cloudfront_key_id": "K2JCJMDEHXQW5F",
                "cloudfront_key": pem,
                "querystring_auth": True,
                "access_key": "spec",
                "secret_key": "spec",
                "region_name": "us-east-1",
            },
        },
    }
    return private.public_key()


def cloudfront_signature_valid(public_key: Any, url: str) -> bool:
    """CloudFront's check of a canned-policy URL: an RSA-SHA1 signature over the policy that
    names the resource and its expiry."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    base, _, query_string = url.partition("?")
    query = parse_qs(query_string)
    policy = json.dumps(
        {
            "Statement": [
                {
                    "Resource": base,
                    "Condition": {"DateLessThan": {"AWS:EpochTime": int(query["Expires"][0])}},
                }
            ]
        },
        separators=(",", ":"),
    )
    encoded = query["Signature"][0].replace("-", "+").replace("_", "=").replace("~", "/")
    try:
        public_key.verify(
            base64.b64decode(encoded),
            policy.encode(),
            padding.PKCS1v15(),
            hashes.SHA1(),  # noqa: S303 (CloudFront signs with RSA-SHA1)
        )
    except InvalidSignature:
        return False
    return True


def test_it_signs_cdn_links_with_the_cloudfront_key(
    api: Any, project: Any, cloudfront: Any, settings: Any
) -> None:
    settings.MEDIA_URL_TTL = 300
    clip = Clip.objects.create(
        project=project,
        owner=project.owner,
        name="Reef",
        status=Clip.Status.READY,
        thumbnail_path=clip_derived_key("3f1c", "poster.jpg"),
    )

    url = api.get(f"/api/clips/{clip.pk}").json()["thumbnail_url"]

    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert (parts.scheme, parts.netloc) == ("https", "cdn.clips.example.com")
    assert parts.path.endswith("clips/3f1c/poster.jpg")
    assert query["Key-Pair-Id"] == ["K2JCJMDEHXQW5F"]
    assert time.time() < int(query["Expires"][0]) <= time.time() + 300
    assert cloudfront_signature_valid(cloudfront, url)
    later = url.replace(
        f"Expires={query['Expires'][0]}", f"Expires={int(query['Expires'][0]) + 3600}"
    )
    assert not cloudfront_signature_valid(cloudfront, later)


def test_it_refuses_to_start_with_a_cdn_domain_but_no_cloudfront_key() -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {
        **os.environ,
        "AWS_STORAGE_BUCKET_NAME": "clipseq-media",
        "AWS_S3_CUSTOM_DOMAIN": "cdn.clips.example.com",
        "AWS_CLOUDFRONT_KEY_ID": "",
        "AWS_CLOUDFRONT_KEY": "",
    }
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=Path(__file__).resolve().parents[2],
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert "AWS_CLOUDFRONT_KEY" in result.stderr
