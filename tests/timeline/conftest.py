from __future__ import annotations

from typing import Any

import pytest

from projects.models import Project
from tests.projects.factories import make_project


@pytest.fixture
def project(owner: Any) -> Project:
    return make_project(owner)
