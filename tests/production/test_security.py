"""Browser-facing security: CORS allow-list, CSRF for session callers, CSP and other headers,
escaping of user text, and the production settings passing Django's deployment checks."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.production.conftest import NASTY, make_owned_objects

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def test_it_allows_only_listed_origins_and_never_echoes_another(settings: Any, api: Any) -> None:
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
    settings.CORS_ALLOW_CREDENTIALS = True
    preflight = {"HTTP_ACCESS_CONTROL_REQUEST_METHOD": "POST"}

    listed = api.options("/api/projects", HTTP_ORIGIN="https://app.example.com", **preflight)
    evil = api.options("/api/projects", HTTP_ORIGIN="https://evil.example.net", **preflight)
    evil_get = api.get("/api/projects", HTTP_ORIGIN="https://evil.example.net")

    assert listed["Access-Control-Allow-Origin"] == "https://app.example.com"
    for response in (evil, evil_get):
        assert "Access-Control-Allow-Origin" not in response
        assert "Access-Control-Allow-Credentials" not in response


def test_it_refuses_a_session_post_without_the_csrf_token(owner: Any) -> None:
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(owner)

    refused = client.post("/api/projects", {"name": "No token"}, format="json")
    client.get("/")  # the page sets the CSRF cookie, as the browser editor's would
    token = client.cookies["csrftoken"].value
    accepted = client.post(
        "/api/projects", {"name": "With token"}, format="json", HTTP_X_CSRFTOKEN=token
    )

    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "UNAUTHORIZED_ACCESS"
    assert accepted.status_code == 201


def test_bearer_callers_need_no_csrf_token(api: Any) -> None:
    api.handler.enforce_csrf_checks = True

    assert api.post("/api/projects", {"name": "Token client"}, format="json").status_code == 201


def test_pages_carry_a_strict_content_security_policy(owner: Any) -> None:
    client = Client()
    client.force_login(owner)
    response = client.get("/")

    policy = response["Content-Security-Policy"]
    directives = {}
    for part in filter(None, (p.strip() for p in policy.split(";"))):
        name, _, value = part.partition(" ")
        directives[name] = value
    assert directives["script-src"] == "'self'"
    assert "'unsafe-inline'" not in policy
    assert "'unsafe-eval'" not in policy
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_api_answers_carry_nosniff_and_referrer_policy(api: Any) -> None:
    response = api.get("/api/projects")

    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_the_policy_lets_the_editor_load_media_from_the_cdn_and_storage() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    # A CDN domain comes with the key pair that signs its URLs (one line, "\n" escaped).
    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
        .decode()
        .replace("\n", "\\n")
    )
    result = _production_shell(
        "from django.conf import settings; "
        "d = settings.CONTENT_SECURITY_POLICY['DIRECTIVES']; "
        "print(' '.join(d['media-src']), '|', ' '.join(d['connect-src']))",
        AWS_STORAGE_BUCKET_NAME="media-bucket",
        AWS_S3_CUSTOM_DOMAIN="cdn.example.com",
        AWS_S3_ENDPOINT_URL="https://s3.example.com:9000",
        AWS_CLOUDFRONT_KEY_ID="K2JCJMDEHXQW5F",
        AWS_CLOUDFRONT_KEY=pem,
    )

    media, connect = result.stdout.strip().splitlines()[-1].split("|")
    for directives in (media, connect):
        assert "https://cdn.example.com" in directives
        assert "https://s3.example.com:9000" in directives


def test_user_text_is_escaped_in_pages_and_admin(owner: Any, staff: Any) -> None:
    owned = make_owned_objects(owner, text=NASTY)
    owner_client = Client()
    owner_client.force_login(owner)
    staff_client = Client()
    staff_client.force_login(staff)

    pages = [
        owner_client.get("/"),
        owner_client.get(f"/projects/{owned.project.pk}/"),
        staff_client.get("/admin/projects/project/"),
        staff_client.get(f"/admin/projects/project/{owned.project.pk}/change/"),
        staff_client.get("/admin/clips/clip/"),
        staff_client.get(f"/admin/clips/clip/{owned.clip.pk}/change/"),
        staff_client.get("/admin/timeline/timelinesegment/"),
        staff_client.get(f"/admin/timeline/timelinesegment/{owned.segment.pk}/change/"),
    ]

    for response in pages:
        assert response.status_code == 200, response.request["PATH_INFO"]
        html = response.content.decode()
        assert '<script>alert("xss")' not in html, response.request["PATH_INFO"]
        assert "<img src=x onerror" not in html, response.request["PATH_INFO"]
    # The text is there, escaped: the pages did show it.
    assert "&lt;script&gt;" in pages[2].content.decode()


def _production_env(**extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "DATABASE_", "REDIS_", "DRAMATIQ_", "DJANGO_"))
    }
    env.update(
        DATABASE_URL="sqlite:////tmp/clipseq-deploy-check.sqlite3",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="clips.example.com",
        CSRF_TRUSTED_ORIGINS="https://clips.example.com",
        DEBUG="false",
    )
    env.update(extra)
    return env


def _production_shell(code: str, **extra: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=_production_env(**extra),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result


def test_production_settings_pass_the_deployment_checks() -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_production_env(),
        capture_output=True,
        text=True,
        timeout=180,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_production_responses_carry_hsts_and_redirect_to_https() -> None:
    code = (
        "from django.test import Client; c = Client(); "
        "r = c.get('/api/projects', HTTP_HOST='clips.example.com'); "
        "s = c.get('/api/projects', HTTP_HOST='clips.example.com', "
        "HTTP_X_FORWARDED_PROTO='https'); "
        "print(r.status_code, r.get('Location'), '|', s.get('Strict-Transport-Security'), '|', "
        "s.get('Content-Security-Policy') is not None, s.status_code)"
    )
    # The migrations are not needed: an anonymous API call answers 401 without a query.
    result = _production_shell(code)

    redirect, hsts, rest = result.stdout.strip().splitlines()[-1].split(" | ")
    assert redirect == "301 https://clips.example.com/api/projects"
    assert "max-age=31536000" in hsts
    assert "includeSubDomains" in hsts
    assert rest.split() == ["True", "401"]


def test_stored_file_keys_never_derive_from_the_users_file_name(
    api: Any, owner: Any, tmp_path: Path
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from clips.models import Clip
    from projects.models import Project
    from tests.media import MediaFactory

    project = Project.objects.create(owner=owner, name="Keys")
    video = MediaFactory(tmp_path).normal().read_bytes()
    nasty_name = "../../etc/passwd<script>%00 ; rm -rf ~.mp4"
    single = api.post(
        f"/api/projects/{project.pk}/clips",
        {"file": SimpleUploadedFile(nasty_name, video, content_type="video/mp4")},
        format="multipart",
    )
    chunked = api.post(
        f"/api/projects/{project.pk}/clips",
        {"name": "chunked", "filename": nasty_name, "size": len(video)},
        format="json",
    )

    assert single.status_code == 201, single.content
    assert chunked.status_code == 201, chunked.content
    stored = Clip.objects.get(pk=single.json()["id"])
    staged = Clip.objects.get(pk=chunked.json()["clip"]["id"])
    # A chunked upload is assembled in the private staging area until it completes.
    keys = {stored.file_path: stored.pk, staged.upload.storage_key: staged.pk}
    assert keys == {
        f"clips/{stored.pk}/original": stored.pk,
        f"staging/clips/{staged.pk}/upload": staged.pk,
    }
    for key in keys:
        for fragment in ("passwd", "script", "..", "rm"):
            assert fragment not in key
