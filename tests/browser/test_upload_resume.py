"""An upload cut short resumes after a reload, sending only the chunks the server lacks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.browser.conftest import UPLOAD_CHUNK_SIZE, make_clip, wait_until

pytestmark = pytest.mark.slow


def test_it_resumes_an_interrupted_upload_after_a_reload(
    app_server: str, page, artifacts: Path, tmp_path: Path
) -> None:
    clip = make_clip(tmp_path / "harbour.mp4", frequency=550)
    total_chunks = -(-clip.stat().st_size // UPLOAD_CHUNK_SIZE)
    assert total_chunks >= 3
    last = total_chunks - 1

    page.goto(app_server + "/accounts/signup/")
    page.fill("input[name=email]", "resumer@example.com")
    page.fill("input[name=password1]", "a long and secret passphrase 8")
    page.fill("input[name=password2]", "a long and secret passphrase 8")
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(app_server + "/")
    page.fill("#new-project-name", "Harbour")
    page.get_by_role("button", name="New project").click()
    page.wait_for_url("**/projects/*/")
    page.wait_for_selector("#lane-video .lane-empty")

    # The server refuses the last chunk: the upload stops short with a message.
    def refuse(route) -> None:
        route.fulfill(
            status=403,
            content_type="application/json",
            body='{"error": {"code": "UNAUTHORIZED_ACCESS", "message": "Refused for the test.", "details": {}}}',
        )

    pattern = re.compile(rf"/api/upload/chunk\?upload_id=[^&]+&index={last}$")
    page.route(pattern, refuse)
    page.set_input_files("#file-input", str(clip))
    page.wait_for_selector(".upload-item.is-error")
    assert "Refused for the test." in page.inner_text(".upload-item .detail")
    page.unroute(pattern)
    upload_id = page.get_attribute(".upload-item", "data-upload")
    status_js = "async (id) => (await fetch(`/api/upload/status/${id}`)).json()"
    for _ in range(50):  # the other chunks may still be in flight when the refusal lands
        status = page.evaluate(status_js, upload_id)
        if status["missing_chunks"] == [last]:
            break
        page.wait_for_timeout(100)
    assert status["missing_chunks"] == [last]

    # After a reload the page remembers the upload and asks for the same file again.
    page.reload()
    page.wait_for_selector(".upload-item button:has-text('Choose file')")
    detail = page.inner_text(".upload-item .detail")
    assert "harbour.mp4" in detail and "again to resume" in detail
    page.screenshot(path=artifacts / "resume-waiting-for-file.png")
    sent: list[str] = []
    page.on(
        "request", lambda request: "/api/upload/chunk" in request.url and sent.append(request.url)
    )
    page.set_input_files("#file-input", str(clip))
    page.wait_for_selector(".clip-card[data-status=ready]", timeout=180_000)
    assert [url.rsplit("index=", 1)[1] for url in sent] == [str(last)]
    assert page.locator(".clip-card").count() == 1
    assert (
        page.evaluate(
            "Object.keys(JSON.parse(localStorage.getItem(`clipseq:uploads:${JSON.parse(document.getElementById('editor-config').textContent).project.id}`) || '{}')).length"
        )
        == 0
    )

    # Deleting the project from the dashboard frees the storage it used.
    page.goto(app_server + "/")
    page.wait_for_selector(".project-card")
    assert not page.inner_text("#storage-text").startswith("0 B")
    page.get_by_role("button", name="Delete Harbour").click()
    assert "cannot be undone" in page.inner_text("#delete-dialog")
    page.get_by_role("button", name="Delete project").click()
    page.wait_for_selector("#projects-empty:not([hidden])")
    wait_until(page, "document.querySelector('#storage-text').textContent.startsWith('0 B')")
