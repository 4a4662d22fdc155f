"""Private media in the editor: previews seek through Range requests before anything has played,
links expire, and a refused link is renewed by fetching the clip again, without a reload.

The app runs with MEDIA_URL_TTL of a few seconds, so links expire during the test.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import make_clip, serve_app, wait_until

pytestmark = pytest.mark.slow

TTL = 8


@pytest.fixture(scope="module")
def short_links_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    var_dir = tmp_path_factory.mktemp("browser-media-var")
    with serve_app(var_dir, log_name="server-media-links.log", MEDIA_URL_TTL=str(TTL)) as base:
        yield base


def http_get(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def video_state(page: Any) -> dict[str, Any]:
    return page.evaluate(
        """() => { const v = document.getElementById('preview-video');
            return {src: v.currentSrc, time: v.currentTime, ready: v.readyState,
                    seeking: v.seeking, seekable: v.seekable.length ? v.seekable.end(0) : 0}; }"""
    )


def test_it_scrubs_and_survives_expired_links(
    short_links_server: str, page: Any, artifacts: Path, tmp_path: Path
) -> None:
    base = short_links_server
    reef = make_clip(tmp_path / "reef.mp4", frequency=440)
    kelp = make_clip(tmp_path / "kelp.mp4", frequency=660)
    events: list[tuple[str, str, int]] = []
    page.on("response", lambda r: events.append(("response", r.url, r.status)))

    page.goto(base + "/accounts/signup/")
    page.fill("input[name=email]", "media@example.com")
    page.fill("input[name=password1]", "a long and secret passphrase 9")
    page.fill("input[name=password2]", "a long and secret passphrase 9")
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(base + "/")
    page.fill("#new-project-name", "Reef")
    page.keyboard.press("Enter")
    page.wait_for_url("**/projects/*/")
    project_id = page.url.rstrip("/").split("/")[-1]
    page.set_input_files("#file-input", [str(reef), str(kelp)])
    add_reef = page.get_by_role("button", name="Add reef to the timeline")
    add_kelp = page.get_by_role("button", name="Add kelp to the timeline")
    add_reef.wait_for(timeout=180_000)
    add_kelp.wait_for(timeout=180_000)
    clips = page.evaluate(
        "async (id) => (await (await fetch(`/api/projects/${id}/clips`)).json()).results",
        project_id,
    )
    ids = {clip["name"]: clip["id"] for clip in clips}

    # Scrubbing before anything has played: the proxy is fetched by ranges, so it can seek.
    add_reef.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#save-state.is-saved")
    page.focus("#to-start")  # the new segment has the focus, and arrows would move it
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("Shift+ArrowRight")
    wait_until(
        page,
        """() => { const v = document.getElementById('preview-video');
            return v.readyState >= 2 && !v.seeking && Math.abs(v.currentTime - 2) < 0.05; }""",
    )
    shown = video_state(page)
    assert f"/media/clips/{ids['reef']}/proxy.mp4?" in shown["src"]
    assert shown["seekable"] > 2.5
    assert any(ids["reef"] in url and status == 206 for _, url, status in events)

    # Served by daphne (ASGI): the link answers ranges, and is dead once expired.
    status, headers, body = http_get(shown["src"], Range="bytes=0-99")
    assert (status, headers["content-range"].split("/")[0], len(body)) == (206, "bytes 0-99", 100)
    assert http_get(base + f"/media/clips/{ids['reef']}/proxy.mp4")[0] == 403
    time.sleep(TTL + 1)
    assert http_get(shown["src"])[0] == 403

    # The next clip's link is refused once (as an expired one would be): the editor fetches
    # the clip again and loads the fresh link by itself.
    refused: list[str] = []

    def refuse_once(route: Any) -> None:
        if not refused:
            refused.append(route.request.url)
            events.append(("refused", route.request.url, 403))
            route.fulfill(status=403, body="This media link is invalid or has expired.")
        else:
            route.continue_()

    page.route(f"**/media/clips/{ids['kelp']}/proxy.mp4*", refuse_once)
    add_kelp.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#save-state.is-saved")
    page.focus("#to-start")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("Shift+ArrowRight")  # 4 s: one second into kelp
    wait_until(
        page,
        """(id) => { const v = document.getElementById('preview-video');
            return v.currentSrc.includes(`/media/clips/${id}/proxy.mp4`) && v.readyState >= 2
                && !v.seeking; }""",
        arg=ids["kelp"],
    )
    assert refused, "the kelp proxy was never requested"
    at = next(i for i, event in enumerate(events) if event[0] == "refused")
    assert any(
        kind == "response" and url.endswith(f"/api/clips/{ids['kelp']}") and status == 200
        for kind, url, status in events[at:]
    )
    page.screenshot(path=artifacts / "media-links.png")
    assert page.js_errors == []
