"""Server-rendered pages: the landing page, the dashboard and the editor.

The pages only render a shell; the page scripts talk to the same HTTP API and websocket as
any other client (API.md), authenticated by the Django session and its CSRF token.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie

from projects.api import ProjectSerializer
from projects.models import Role
from projects.selectors import get_project_for_user


@ensure_csrf_cookie
def home(request: HttpRequest) -> HttpResponse:
    """The dashboard for a signed-in user; a landing page with sign-in links for visitors."""
    if not request.user.is_authenticated:
        return render(request, "landing.html")
    return render(request, "dashboard.html")


@login_required
@ensure_csrf_cookie
def editor(request: HttpRequest, project_id: uuid.UUID) -> HttpResponse:
    project = get_project_for_user(request.user, project_id, role=Role.VIEWER)
    config = {
        "project": ProjectSerializer(project).data,
        # Who is editing: their own comments are theirs to edit, and they can leave the project.
        "user": {"id": str(request.user.pk), "name": request.user.display_name},  # type: ignore[union-attr]
        "chunkSize": settings.UPLOAD_CHUNK_SIZE,
        "maxFileSize": settings.UPLOAD_MAX_FILE_SIZE,
        # The editor renews media links before they expire (static/js/editor/media.js).
        "mediaUrlTtl": settings.MEDIA_URL_TTL,
    }
    return render(request, "editor.html", {"project": project, "editor_config": config})
