"""Two places editing one timeline: the editor explains the conflict and keeps the user's work."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import make_clip, wait_until

pytestmark = pytest.mark.slow


def test_it_keeps_my_version_on_top_of_a_save_made_elsewhere(
    app_server: str, page, artifacts: Path, tmp_path: Path
) -> None:
    clip = make_clip(tmp_path / "pier.mp4", frequency=330)
    page.goto(app_server + "/accounts/signup/")
    page.fill("input[name=email]", "twotabs@example.com")
    page.fill("input[name=password1]", "a long and secret passphrase 9")
    page.fill("input[name=password2]", "a long and secret passphrase 9")
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(app_server + "/")
    page.fill("#new-project-name", "Pier")
    page.keyboard.press("Enter")
    page.wait_for_url("**/projects/*/")
    page.set_input_files("#file-input", str(clip))
    add = page.get_by_role("button", name="Add pier to the timeline")
    add.wait_for(timeout=180_000)

    # Keyboard only: focus the library's button and press Enter.
    add.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#save-state.is-saved")
    project_id = page.url.rstrip("/").split("/")[-1]

    # Another device empties the timeline; before this page hears of it, the user edits again.
    page.evaluate(
        """async (id) => {
            const csrf = document.cookie.match(/csrftoken=([^;]+)/)[1];
            const now = await (await fetch(`/api/projects/${id}/timeline`)).json();
            await fetch(`/api/projects/${id}/timeline`, {method: 'POST',
                headers: {'Content-Type': 'application/json', 'X-CSRFToken': csrf},
                body: JSON.stringify({version: now.version, segments: []})});
        }""",
        project_id,
    )
    add.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#conflict-bar:not([hidden])")
    assert "changed in another tab" in page.inner_text("#conflict-bar")
    assert "conflict" in page.inner_text("#save-state")
    page.screenshot(path=artifacts / "conflict.png")

    page.get_by_role("button", name="Keep mine").click()
    page.wait_for_selector("#save-state.is-saved")
    assert page.is_hidden("#conflict-bar")
    timeline = page.evaluate(
        "async (id) => (await fetch(`/api/projects/${id}/timeline`)).json()", project_id
    )
    assert [(s["start_time"], s["duration"]) for s in timeline["segments"]] == [(0, 3), (3, 3)]
    # Undo still works after the conflict: back to one segment, saved.
    page.keyboard.press("Control+z")
    wait_until(page, "document.querySelectorAll('#lane-video .segment').length === 1")
    page.wait_for_selector("#save-state.is-saved")
    assert page.js_errors == []
