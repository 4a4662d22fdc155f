"""Starting, following and downloading exports through the HTTP API."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage

from clips.models import Clip
from processing.models import ProcessingJob
from projects.models import Project
from tests.export.conftest import counted_frames, lay_out, output_path, probe, stream
from tests.processing.conftest import job_finished, wait_for


def export_url(project) -> str:
    return f"/api/projects/{project.pk}/export"


@pytest.mark.django_db(transaction=True)
def test_it_exports_through_the_api_end_to_end(api, project, clip_of, sources, worker):
    clip = clip_of(sources.video(seconds=2))
    lay_out(project, [{"clip": clip, "start": 0, "source_start": "0.5", "duration": "1.2"}])

    response = api.post(export_url(project), {"preset": "source"}, format="json")

    assert response.status_code == 202, response.json()
    body = response.json()
    assert (body["job_type"], body["project_id"]) == ("export", str(project.pk))
    assert body["input_params"]["preset"] == "source"
    job = ProcessingJob.objects.get(pk=body["id"])
    wait_for(job_finished(job), timeout=120, what="the export job")
    assert job.status == ProcessingJob.Status.COMPLETED, job.developer_error[-2000:]
    project.refresh_from_db()
    assert project.status == Project.Status.EXPORTED

    status = api.get(f"/api/process/status/{job.pk}").json()
    output = status["output_data"]
    assert status["progress"] == 100
    assert (output["format"], output["resolution"]) == ("mp4", "320x180")
    assert output["storage_key"] == f"exports/{project.pk}/{job.pk}.mp4"
    assert abs(output["duration"] - 1.2) <= 1 / 30
    assert output["size"] == default_storage.size(output["storage_key"])
    assert output["download_url"]

    download = api.get(f"/api/process/export/{job.pk}/download")
    assert download.status_code == 302
    # A fresh URL of the stored file (signed anew on S3, so compare without the query).
    fresh = default_storage.url(output["storage_key"]).split("?")[0]
    assert download["Location"].split("?")[0] == fresh
    path = output_path(job)
    assert counted_frames(path) == 36
    assert stream(probe(path), "audio")["sample_rate"] == "48000"


@pytest.mark.django_db
def test_it_starts_an_export_from_the_process_endpoint_with_defaults(
    api, project, clip_of, sources
):
    clip = clip_of(sources.video(seconds=2))
    lay_out(project, [{"clip": clip, "start": 0, "duration": 1}])

    response = api.post("/api/process/export", {"project_id": str(project.pk)}, format="json")

    assert response.status_code == 202, response.json()
    job = ProcessingJob.objects.get(pk=response.json()["id"])
    assert (job.status, job.job_type, job.project_id) == ("pending", "export", project.pk)
    assert job.input_params["preset"] == "1080p"
    assert job.input_params["format"] == "mp4"
    assert job.input_params["loudness_target"] == -14
    project.refresh_from_db()
    assert project.status == Project.Status.EXPORTING


@pytest.mark.django_db
def test_it_takes_the_loudness_target_from_the_project_settings(api, project, clip_of, sources):
    project.settings = {"loudness_target": -16}
    project.save(update_fields=["settings"])
    lay_out(project, [{"clip": clip_of(sources.video(seconds=2)), "start": 0, "duration": 1}])

    response = api.post(export_url(project), {}, format="json")

    assert response.status_code == 202
    assert response.json()["input_params"]["loudness_target"] == -16


@pytest.mark.django_db
def test_it_refuses_a_second_export_while_one_runs(api, project, clip_of, sources):
    lay_out(project, [{"clip": clip_of(sources.video(seconds=2)), "start": 0, "duration": 1}])
    first = api.post(export_url(project), {}, format="json")
    assert first.status_code == 202

    second = api.post(export_url(project), {}, format="json")

    assert second.status_code == 409
    assert second.json()["error"]["code"] == "CONFLICT"
    assert second.json()["error"]["details"]["job_id"] == first.json()["id"]
    assert ProcessingJob.objects.filter(project=project, job_type="export").count() == 1


@pytest.mark.django_db
def test_it_refuses_an_empty_timeline(api, project):
    response = api.post(export_url(project), {}, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert "no video segment" in error["message"]
    project.refresh_from_db()
    assert project.status == Project.Status.DRAFT
    assert not ProcessingJob.objects.filter(project=project).exists()


@pytest.mark.django_db
def test_it_starts_an_export_of_a_timeline_with_captions(api, project, clip_of, sources):
    # Segments without a clip (text, captions) do not stop the export of the clips.
    lay_out(project, [{"clip": clip_of(sources.video(seconds=2)), "start": 0, "duration": 1}])
    api.post(
        f"/api/projects/{project.pk}/timeline/segments",
        {"layer": "caption", "start_time": 0, "duration": 1, "text": {"content": "Hi"}},
        format="json",
    )

    response = api.post(export_url(project), {}, format="json")

    assert response.status_code == 202, response.json()


@pytest.mark.django_db
def test_it_refuses_a_timeline_with_clips_not_ready(api, project, clip_of, sources):
    clip = clip_of(sources.video(seconds=2), "holiday.mp4")
    lay_out(project, [{"clip": clip, "start": 0, "duration": 1}])
    Clip.objects.filter(pk=clip.pk).update(status=Clip.Status.PROCESSING)

    response = api.post(export_url(project), {}, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert "holiday.mp4" in error["message"]
    assert error["details"]["clips"] == ["holiday.mp4"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"), [({"preset": "4k"}, "preset"), ({"format": "avi"}, "format")]
)
def test_it_refuses_unknown_presets_and_formats(api, project, clip_of, sources, body, field):
    lay_out(project, [{"clip": clip_of(sources.video(seconds=2)), "start": 0, "duration": 1}])

    response = api.post(export_url(project), body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert field in response.json()["error"]["message"]


@pytest.mark.django_db
def test_it_hides_other_users_projects_and_exports(api, other_api, project, clip_of, sources):
    lay_out(project, [{"clip": clip_of(sources.video(seconds=2)), "start": 0, "duration": 1}])
    job = api.post(export_url(project), {}, format="json").json()

    assert other_api.post(export_url(project), {}, format="json").status_code == 404
    outsider = other_api.post("/api/process/export", {"project_id": str(project.pk)}, format="json")
    assert outsider.status_code == 404
    assert outsider.json()["error"]["code"] == "NOT_FOUND"
    assert other_api.get(f"/api/process/export/{job['id']}/download").status_code == 404


@pytest.mark.django_db
def test_it_asks_anonymous_callers_to_sign_in(anon_api, project):
    assert anon_api.post(export_url(project), {}, format="json").status_code == 401
    assert anon_api.post("/api/process/export", {}, format="json").status_code == 401


@pytest.mark.django_db
def test_it_has_no_download_before_the_export_completes(api, project, clip_of, sources):
    lay_out(project, [{"clip": clip_of(sources.video(seconds=2)), "start": 0, "duration": 1}])
    job = api.post(export_url(project), {}, format="json").json()

    response = api.get(f"/api/process/export/{job['id']}/download")

    assert response.status_code == 409
    assert "pending" in response.json()["error"]["message"]


@pytest.mark.django_db
def test_it_puts_the_project_back_to_draft_when_a_pending_export_is_cancelled(
    api, project, clip_of, sources, django_capture_on_commit_callbacks
):
    lay_out(project, [{"clip": clip_of(sources.video(seconds=2)), "start": 0, "duration": 1}])
    job = api.post(export_url(project), {}, format="json").json()

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/process/cancel/{job['id']}")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    project.refresh_from_db()
    assert project.status == Project.Status.DRAFT
    again = api.post(export_url(project), {}, format="json")
    assert again.status_code == 202


@pytest.mark.django_db
def test_what_the_request_leaves_out_comes_from_the_project_settings(
    api, project, clip_of, sources
):
    project.settings = {"export_preset": "720p", "export_format": "webm", "export_captions": "burn"}
    project.save(update_fields=["settings"])
    lay_out(project, [{"clip": clip_of(sources.video(seconds=2)), "start": 0, "duration": 1}])

    response = api.post(export_url(project), {"captions": "sidecar"}, format="json")

    assert response.status_code == 202, response.json()
    params = response.json()["input_params"]
    assert (params["preset"], params["format"], params["captions"]) == ("720p", "webm", "sidecar")


@pytest.mark.django_db
def test_it_refuses_unknown_captions(api, project, clip_of, sources):
    lay_out(project, [{"clip": clip_of(sources.video(seconds=2)), "start": 0, "duration": 1}])

    response = api.post(export_url(project), {"captions": "subtitles"}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert not ProcessingJob.objects.filter(project=project).exists()
