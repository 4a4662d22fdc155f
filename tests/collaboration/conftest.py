"""A project shared by its owner with a viewer, a commenter and an editor, and API clients for
each; real media and an in-process Dramatiq worker come from the processing fixtures."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from rest_framework.test import APIClient

# Declare every Dramatiq queue before any worker starts: a queue declared later also gets a
# consumer in each worker already stopped (their middleware stays on the broker), and such a
# consumer takes messages that no worker thread will ever run.
import collaboration.tasks  # noqa: F401
import config.scheduler  # noqa: F401
import processing.tasks  # noqa: F401
from projects.models import Project, ProjectMember
from tests.conftest import client_for
from tests.processing.conftest import media, wait_for, worker  # noqa: F401
from tests.projects.factories import make_project


@dataclass
class Team:
    project: Project
    owner: Any
    viewer: Any
    commenter: Any
    editor: Any

    def client(self, who: str) -> APIClient:
        return client_for(getattr(self, who))


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    # Four personas per test: a slow password hash per user is not what these specs are about.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def project(owner: Any) -> Project:
    return make_project(owner, "Wedding film")


@pytest.fixture
def team(project: Project, owner: Any, make_user: Callable[..., Any]) -> Team:
    members = {
        role: make_user(f"{role}@example.com", name=f"{role.title()} Member")
        for role in ("viewer", "commenter", "editor")
    }
    for role, user in members.items():
        ProjectMember.objects.create(project=project, user=user, role=role, invited_by=owner)
    return Team(project=project, owner=owner, **members)
