"""Storage key of a project's exports: everything of them lives under `exports/<project_id>/`."""

from __future__ import annotations

import uuid


def export_prefix(project_id: uuid.UUID | str) -> str:
    return f"exports/{project_id}/"
