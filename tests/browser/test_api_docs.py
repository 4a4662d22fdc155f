"""The API docs page renders Swagger UI from our own static files under the site's strict
Content-Security-Policy: no third-party script, no inline script or style, no violation."""

from __future__ import annotations

import urllib.request
from typing import Any
from urllib.parse import urlsplit

from tests.browser.conftest import wait_until


def test_the_api_docs_render_under_the_strict_policy_from_our_own_files(
    app_server: str, page: object
) -> None:
    with urllib.request.urlopen(app_server + "/api/docs/") as answer:
        policy = answer.headers["Content-Security-Policy"]
        html = answer.read().decode()
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "<style" not in html and "<script>" not in html

    violations: list[str] = []
    requested: list[str] = []
    browser_page: Any = page
    browser_page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    browser_page.on("request", lambda request: requested.append(request.url))
    # Playwright's own scripts are exempt from the policy; the page's are not.
    browser_page.add_init_script(
        "document.addEventListener('securitypolicyviolation', event => "
        "(window.cspViolations = window.cspViolations || [])"
        ".push(event.violatedDirective + ' ' + event.blockedURI));"
    )
    browser_page.goto(app_server + "/api/docs/")

    # Swagger UI fetched the schema and drew one block per operation.
    wait_until(browser_page, "document.querySelectorAll('.opblock').length > 20")
    title = browser_page.evaluate("document.querySelector('.info .title').textContent")
    assert title.startswith("Clip Sequencer API")
    assert browser_page.evaluate("window.cspViolations || []") == []
    assert violations == []
    assert browser_page.js_errors == []
    origins = {urlsplit(url).netloc for url in requested if url.startswith("http")}
    assert origins == {urlsplit(app_server).netloc}
