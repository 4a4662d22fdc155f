"""Two people editing one project at once, each in their own browser: both see the other's edits
land live, the other's avatar, playhead and selection, and the export holds both people's work."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest

from tests.browser.conftest import make_clip, probe, wait_until
from tests.browser.test_sharing import api_call, sign_up

pytestmark = pytest.mark.slow

LABELS = "() => [...document.querySelectorAll('#lane-video .segment')].map((n) => n.getAttribute('aria-label')).sort()"
SAVED = "() => document.querySelector('#save-state').classList.contains('is-saved')"


def me(page: Any) -> dict[str, Any]:
    body: dict[str, Any] = api_call(page, "GET", "/api/auth/me")["body"]
    return body


def labels(page: Any) -> list[str]:
    result: list[str] = page.evaluate(LABELS)
    return result


def wait_labels(page: Any, expected: list[str], timeout: float = 15_000) -> None:
    try:
        wait_until(
            page,
            f"(expected) => JSON.stringify(({LABELS})()) === JSON.stringify(expected)",
            arg=sorted(expected),
            timeout=timeout,
        )
    except AssertionError as error:
        raise AssertionError(f"the page shows {labels(page)}, not {sorted(expected)}") from error


def select_segment(page: Any, name: str) -> None:
    page.locator("#lane-video .segment", has_text=name).click()


def test_two_people_edit_one_timeline_live_and_export_both_parts(
    app_server: str, page: Any, second_page: Any, artifacts: Path, tmp_path: Path
) -> None:
    owner, editor = page, second_page
    beach = make_clip(tmp_path / "beach.mp4", frequency=440)
    sunset = make_clip(tmp_path / "sunset.mp4", frequency=660)

    sign_up(owner, app_server, "olivia.live@example.com")
    owner.fill("#new-project-name", "Two hands")
    owner.get_by_role("button", name="New project").click()
    owner.wait_for_url("**/projects/*/")
    project_url = owner.url
    project_id = project_url.rstrip("/").split("/")[-1]
    owner.set_input_files("#file-input", [str(beach), str(sunset)])
    owner.wait_for_selector(".clip-card[data-status=ready] >> nth=1", timeout=180_000)

    # The owner invites an editor, who signs up and joins.
    invitation = api_call(
        owner,
        "POST",
        f"/api/projects/{project_id}/invitations",
        {"email": "nina.live@example.com", "role": "editor"},
    )
    assert invitation["status"] == 201, invitation
    token = urlsplit(invitation["body"]["url"]).path.rstrip("/").split("/")[-1]
    sign_up(editor, app_server, "nina.live@example.com")
    accepted = api_call(editor, "POST", "/api/invitations/accept", {"token": token})
    assert accepted["status"] == 200, accepted
    owner_id, editor_id = me(owner)["id"], me(editor)["id"]
    editor.goto(project_url)

    # Each sees the other's avatar.
    owner.wait_for_selector(f".presence-avatar[data-user-id='{editor_id}']")
    editor.wait_for_selector(f".presence-avatar[data-user-id='{owner_id}']")
    assert (
        owner.get_attribute(f".presence-avatar[data-user-id='{editor_id}']", "title") == "nina.live"
    )

    # The owner places the first clip; it shows up on the editor's screen without a reload.
    owner.get_by_role("button", name="Add beach to the timeline").click()
    first = "beach, video lane, from 0:00.00 to 0:03.00"
    wait_labels(editor, [first])
    # The editor places the second one after it; the owner sees it.
    editor.get_by_role("button", name="Add sunset to the timeline").click()
    second = "sunset, video lane, from 0:03.00 to 0:06.00"
    wait_labels(owner, [first, second])

    # At the same time: the owner trims the end of the first segment to 2 s, the editor moves
    # the second one 1 s later. Different segments: both edits are kept, on both screens.
    owner.locator("#ruler").click(position={"x": 2, "y": 10})
    owner.keyboard.press("Home")
    owner.keyboard.press("Shift+ArrowRight")
    owner.keyboard.press("Shift+ArrowRight")
    select_segment(editor, "sunset")
    select_segment(owner, "beach")
    owner.keyboard.press("]")
    editor.keyboard.press("Shift+ArrowRight")
    expected = [
        "beach, video lane, from 0:00.00 to 0:02.00",
        "sunset, video lane, from 0:04.00 to 0:07.00",
    ]
    for who in (owner, editor):
        wait_labels(who, expected)
        wait_until(who, SAVED, timeout=15_000)
    timeline = api_call(owner, "GET", f"/api/projects/{project_id}/timeline")["body"]
    assert [(s["start_time"], s["duration"]) for s in timeline["segments"]] == [(0, 2), (4, 3)]

    # Each sees where the other is: the owner's playhead (2 s) and selection on the editor's
    # timeline, the editor's selection on the owner's, in their colours.
    mark = f".remote-playhead[data-user-id='{owner_id}']"
    editor.wait_for_selector(mark)
    pps = editor.evaluate(
        "() => document.querySelector('#lane-video .segment').getBoundingClientRect().width / 2"
    )
    wait_until(
        editor,
        "([sel, x]) => Math.abs(parseFloat(document.querySelector(sel).style.left) - x) < 1",
        arg=[mark, 2 * pps],
    )
    editor.locator("#lane-video .segment.is-remote-selected", has_text="beach").wait_for()
    owner.locator("#lane-video .segment.is-remote-selected", has_text="sunset").wait_for()
    owner_colour = owner.evaluate(
        "(id) => getComputedStyle(document.querySelector(`.presence-avatar[data-user-id='${id}']`))"
        ".getPropertyValue('--presence-color')",
        owner_id,
    )
    assert (
        editor.evaluate(
            "(sel) => document.querySelector(sel).style.getPropertyValue('--presence-color')", mark
        )
        == owner_colour.strip()
    )
    owner.screenshot(path=artifacts / "coediting-owner.png")
    editor.screenshot(path=artifacts / "coediting-editor.png")

    # Undo takes back only one's own edit: the editor's move goes, the owner's trim stays;
    # redo brings the move back. Both screens follow.
    editor.keyboard.press("Control+z")
    undone = [
        "beach, video lane, from 0:00.00 to 0:02.00",
        "sunset, video lane, from 0:03.00 to 0:06.00",
    ]
    for who in (owner, editor):
        wait_labels(who, undone)
    editor.keyboard.press("Control+Shift+z")
    for who in (owner, editor):
        wait_labels(who, expected)
        wait_until(who, SAVED, timeout=15_000)

    # The export holds both people's work: 7 s, the editor's moved segment last.
    job = api_call(owner, "POST", f"/api/projects/{project_id}/export", {"preset": "720p"})
    assert job["status"] == 202, job
    deadline = time.monotonic() + 240
    while True:
        status = api_call(owner, "GET", f"/api/process/status/{job['body']['id']}")["body"]
        if status["status"] in ("completed", "failed", "cancelled"):
            break
        assert time.monotonic() < deadline, status
        time.sleep(1)
    assert status["status"] == "completed", status
    assert status["output_data"]["duration"] == pytest.approx(7.0, abs=0.1)
    download = owner.request.get(urljoin(app_server, status["output_data"]["download_url"]))
    assert download.ok
    exported = tmp_path / "two-hands.mp4"
    exported.write_bytes(download.body())
    assert float(probe(exported)["format"]["duration"]) == pytest.approx(7.0, abs=0.1)
    assert owner.js_errors == [] and editor.js_errors == []
