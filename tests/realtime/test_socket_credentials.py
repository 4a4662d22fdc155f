"""Who may open a socket, from where, and for how long (API.md, WebSocket; issue 9).

`?token=<access>` authenticates a socket by itself, so a script that sends no Origin header is
let in; another site's Origin is refused, token or not; the session cookie needs an allowed
Origin. A socket closes with 4401 once the credentials that opened it stop holding.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from accounts.tokens import token_pair_issue
from config.asgi import application
from realtime.broadcast import broadcast, user_group
from realtime.consumers import CLOSE_UNAUTHENTICATED
from tests.accounts.test_pages import csrf_token
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

HOST = (b"host", b"testserver")
ALLOWED_ORIGIN = (b"origin", b"http://testserver")
FOREIGN_ORIGIN = (b"origin", b"https://evil.example")


def run(coroutine: Callable[[], Awaitable[Any]]) -> Any:
    return async_to_sync(coroutine)()


def communicator(path: str, *headers: tuple[bytes, bytes]) -> WebsocketCommunicator:
    return WebsocketCommunicator(application, path, headers=[HOST, *headers])


def signed_in_browser(user: Any) -> tuple[Client, tuple[bytes, bytes]]:
    """A browser signed in through the sign-in page, and its session cookie header."""
    browser = Client()
    page = browser.get("/accounts/login/").content.decode()
    response = browser.post(
        "/accounts/login/",
        {"csrfmiddlewaretoken": csrf_token(page), "login": user.email, "password": PASSWORD},
    )
    assert response.status_code == 302
    session = browser.cookies[settings.SESSION_COOKIE_NAME].value
    return browser, (b"cookie", f"{settings.SESSION_COOKIE_NAME}={session}".encode())


async def receives_events(socket: WebsocketCommunicator, user: Any) -> bool:
    await database_sync_to_async(broadcast)(
        {"type": "notification", "level": "info", "message": "still here"}, [user_group(user.pk)]
    )
    return bool((await socket.receive_json_from(timeout=5))["message"] == "still here")


async def closed_with(socket: WebsocketCommunicator, timeout: float = 5) -> int | None:
    output = await socket.receive_output(timeout=timeout)
    assert output["type"] == "websocket.close"
    return output.get("code")


def test_it_lets_a_token_socket_in_without_an_origin_header(owner: Any) -> None:
    token = token_pair_issue(user=owner).access
    socket = communicator(f"/ws/?token={token}")

    async def body() -> None:
        connected, _ = await socket.connect(timeout=5)
        assert connected
        assert await receives_events(socket, owner)
        await socket.disconnect()

    run(body)


def test_it_refuses_a_foreign_origin_even_with_a_valid_token(owner: Any) -> None:
    token = token_pair_issue(user=owner).access
    socket = communicator(f"/ws/?token={token}", FOREIGN_ORIGIN)

    async def body() -> None:
        connected, _ = await socket.connect(timeout=5)
        assert not connected

    run(body)


def test_it_refuses_a_socket_without_origin_or_token(owner: Any) -> None:
    socket = communicator("/ws/?token=forged")

    async def body() -> None:
        connected, _ = await socket.connect(timeout=5)
        assert not connected

    run(body)


def test_it_refuses_a_cookie_socket_without_an_allowed_origin(owner: Any) -> None:
    _, cookie = signed_in_browser(owner)

    async def body() -> None:
        for headers in ((cookie,), (cookie, FOREIGN_ORIGIN)):
            connected, _ = await communicator("/ws/", *headers).connect(timeout=5)
            assert not connected
        # The same cookie from the app's own pages is let in.
        socket = communicator("/ws/", cookie, ALLOWED_ORIGIN)
        assert (await socket.connect(timeout=5))[0]
        assert await receives_events(socket, owner)
        await socket.disconnect()

    run(body)


def test_it_closes_a_token_socket_with_4401_after_logout(anon_api: Any, owner: Any) -> None:
    response = anon_api.post(
        "/api/auth/login", {"email": owner.email, "password": PASSWORD}, format="json"
    )
    pair = response.json()
    other_device = token_pair_issue(user=owner).access
    signed_out = communicator(f"/ws/?token={pair['access']}")
    still_signed_in = communicator(f"/ws/?token={other_device}")

    async def body() -> None:
        assert (await signed_out.connect(timeout=5))[0]
        assert (await still_signed_in.connect(timeout=5))[0]

        def logout() -> int:
            answer = anon_api.post("/api/auth/logout", {"refresh": pair["refresh"]}, format="json")
            return int(answer.status_code)

        assert await database_sync_to_async(logout)() == 204
        assert await closed_with(signed_out) == CLOSE_UNAUTHENTICATED
        # Another sign-in of the same user keeps its socket.
        assert await receives_events(still_signed_in, owner)
        await still_signed_in.disconnect()

    run(body)


def test_it_closes_a_cookie_socket_with_4401_after_signing_out_in_the_browser(
    owner: Any,
) -> None:
    browser, cookie = signed_in_browser(owner)
    socket = communicator("/ws/", cookie, ALLOWED_ORIGIN)

    async def body() -> None:
        assert (await socket.connect(timeout=5))[0]

        def sign_out() -> int:
            page = browser.get("/accounts/logout/").content.decode()
            answer = browser.post("/accounts/logout/", {"csrfmiddlewaretoken": csrf_token(page)})
            return int(answer.status_code)

        assert await database_sync_to_async(sign_out)() == 302
        assert await closed_with(socket) == CLOSE_UNAUTHENTICATED

    run(body)


def test_it_closes_sockets_with_4401_after_a_password_change(owner: Any) -> None:
    token = token_pair_issue(user=owner).access
    browser, cookie = signed_in_browser(owner)
    token_socket = communicator(f"/ws/?token={token}")
    cookie_socket = communicator("/ws/", cookie, ALLOWED_ORIGIN)

    async def body() -> None:
        assert (await token_socket.connect(timeout=5))[0]
        assert (await cookie_socket.connect(timeout=5))[0]

        def change_password() -> int:
            page = browser.get("/accounts/password/change/").content.decode()
            answer = browser.post(
                "/accounts/password/change/",
                {
                    "csrfmiddlewaretoken": csrf_token(page),
                    "oldpassword": PASSWORD,
                    "password1": "a-new-and-longer-passphrase-77",
                    "password2": "a-new-and-longer-passphrase-77",
                },
            )
            return int(answer.status_code)

        assert await database_sync_to_async(change_password)() == 302
        assert await closed_with(token_socket) == CLOSE_UNAUTHENTICATED
        assert await closed_with(cookie_socket) == CLOSE_UNAUTHENTICATED

    run(body)


def test_it_closes_a_token_socket_with_4401_when_the_token_expires(
    owner: Any, settings: Any
) -> None:
    settings.HEADLESS_JWT_ACCESS_TOKEN_EXPIRES_IN = 2
    token = token_pair_issue(user=owner).access
    socket = communicator(f"/ws/?token={token}")

    async def body() -> None:
        assert (await socket.connect(timeout=5))[0]
        assert await receives_events(socket, owner)
        # Nothing but the expiry closes it: no sign-out, no message from the client.
        assert await closed_with(socket, timeout=6) == CLOSE_UNAUTHENTICATED

    run(body)
