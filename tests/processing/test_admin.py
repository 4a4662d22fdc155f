"""Staff see processing jobs in the admin: list, filters, search, FFmpeg detail, cancelling."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from processing.models import ProcessingJob

pytestmark = pytest.mark.django_db

URL = "/admin/processing/processingjob/"


@pytest.fixture
def staff_client(staff: Any) -> Client:
    client = Client()
    client.force_login(staff)
    return client


def make_job(owner: Any, **extra: Any) -> ProcessingJob:
    return ProcessingJob.objects.create(
        owner=owner, job_type=extra.pop("job_type", "probe"), **extra
    )


def test_it_lists_jobs_with_owner_and_duration_in_few_queries(
    staff_client: Client, owner: Any, project: Any, django_assert_max_num_queries: Any
) -> None:
    started = timezone.now() - timedelta(seconds=90)
    for _ in range(15):
        make_job(
            owner,
            project=project,
            status="completed",
            started_at=started,
            completed_at=started + timedelta(seconds=12.5),
        )

    with django_assert_max_num_queries(12):
        response = staff_client.get(URL)

    assert response.status_code == 200
    html = response.content.decode()
    assert owner.email in html and "12.5 s" in html


def test_it_filters_by_status_and_searches_by_owner_email_or_job_id(
    staff_client: Client, owner: Any, other_user: Any
) -> None:
    failed = make_job(owner, status="failed", job_type="transcode")
    make_job(other_user, status="completed")

    by_status = staff_client.get(URL, {"status__exact": "failed"})
    by_email = staff_client.get(URL, {"q": other_user.email})
    by_id = staff_client.get(URL, {"q": str(failed.pk)})

    assert str(failed.pk) in by_status.content.decode()
    assert by_status.context["cl"].result_count == 1
    assert by_email.context["cl"].result_count == 1
    assert list(by_id.context["cl"].result_list) == [failed]


def test_it_shows_ffmpegs_detail_read_only(staff_client: Client, owner: Any) -> None:
    job = make_job(owner, status="failed", developer_error="moov atom not found <script>")

    response = staff_client.get(f"{URL}{job.pk}/change/")

    html = response.content.decode()
    assert "moov atom not found &lt;script&gt;" in html
    assert 'name="developer_error"' not in html


def test_it_cancels_the_selected_unfinished_jobs(staff_client: Client, owner: Any) -> None:
    pending = make_job(owner)
    done = make_job(owner, status="completed", completed_at=timezone.now())

    response = staff_client.post(
        URL,
        {"action": "cancel_selected", "_selected_action": [str(pending.pk), str(done.pk)]},
        follow=True,
    )

    assert response.status_code == 200
    pending.refresh_from_db()
    done.refresh_from_db()
    assert pending.status == "cancelled"
    assert done.status == "completed"
    messages = [str(m) for m in response.context["messages"]]
    assert "Cancelled 1 job(s)." in messages
    assert any("already finished" in m for m in messages)


def test_it_keeps_the_admin_for_staff(client: Client, owner: Any) -> None:
    client.force_login(owner)

    assert client.get(URL).status_code == 302
