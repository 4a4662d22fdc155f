"""Storage quota: reserved at the start of an upload, moved to used on completion."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection

from accounts.models import User
from clips.models import Clip, UploadSession
from tests.conftest import client_for


def test_it_refuses_an_upload_that_does_not_fit(api: Any, owner: Any, project: Any) -> None:
    owner.storage_limit = 1000
    owner.storage_used = 600
    owner.storage_reserved = 300
    owner.save()

    response = api.post(
        f"/api/projects/{project.pk}/clips",
        {"name": "Too big", "filename": "big.mp4", "size": 101},
        format="json",
    )

    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "STORAGE_QUOTA_EXCEEDED"
    assert error["details"]["available"] == 100
    assert not Clip.objects.exists()
    owner.refresh_from_db()
    assert (owner.storage_used, owner.storage_reserved) == (600, 300)


def test_it_accepts_an_upload_that_fills_the_quota_exactly(
    api: Any, owner: Any, project: Any
) -> None:
    owner.storage_limit = 1000
    owner.storage_used = 900
    owner.save()

    response = api.post(
        f"/api/projects/{project.pk}/clips",
        {"name": "Fits", "filename": "fits.mp4", "size": 100},
        format="json",
    )

    assert response.status_code == 201
    owner.refresh_from_db()
    assert owner.storage_reserved == 100


@pytest.mark.django_db(transaction=True)
def test_parallel_starts_cannot_overshoot_the_quota(owner: Any, make_user: Any) -> None:
    from projects.models import Project

    project = Project.objects.create(owner=owner, name="Race")
    size = 1000
    User.objects.filter(pk=owner.pk).update(storage_limit=3 * size)

    def start(number: int) -> int:
        try:
            response = client_for(owner).post(
                f"/api/projects/{project.pk}/clips",
                {"name": f"clip {number}", "filename": "c.mp4", "size": size},
                format="json",
            )
            return response.status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=6) as pool:
        codes = sorted(pool.map(start, range(8)))

    assert codes == [201, 201, 201, 413, 413, 413, 413, 413]
    owner.refresh_from_db()
    assert owner.storage_reserved == 3 * size
    assert UploadSession.objects.filter(owner=owner).count() == 3
