"""Password guessing is limited on every sign-in form (API, allauth's pages, the admin), per
address and per account, and failures from one address never stop the owner from signing in
from another (accounts/signin_limits.py)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

ATTACKER = "203.0.113.66"
OWNER_HOME = "198.51.100.7"


def api_login(address: str, email: str, password: str) -> Any:
    client = APIClient(REMOTE_ADDR=address)
    return client.post("/api/auth/login", {"email": email, "password": password}, format="json")


def page_login(address: str, email: str, password: str) -> Any:
    return Client(REMOTE_ADDR=address).post(
        "/accounts/login/", {"login": email, "password": password}
    )


def admin_login(address: str, email: str, password: str) -> Any:
    return Client(REMOTE_ADDR=address).post(
        "/admin/login/?next=/admin/", {"username": email, "password": password, "next": "/admin/"}
    )


def limits(settings: Any, **values: str) -> None:
    settings.SIGNIN_LIMITS = {**settings.SIGNIN_LIMITS, **values}


def test_an_attacker_cannot_lock_the_owner_out_from_another_address(owner: Any) -> None:
    attacker = [api_login(ATTACKER, owner.email, f"guess-{i}").status_code for i in range(40)]

    owner_answer = api_login(OWNER_HOME, owner.email, PASSWORD)

    assert attacker[:5] == [401] * 5
    assert set(attacker[5:]) == {429}
    assert owner_answer.status_code == 200
    assert owner_answer.json()["user"]["email"] == owner.email


def test_a_blocked_address_gets_rate_limited_with_retry_after(owner: Any) -> None:
    for i in range(5):
        api_login(ATTACKER, owner.email, f"guess-{i}")

    blocked = api_login(ATTACKER, owner.email, PASSWORD)

    assert blocked.status_code == 429
    error = blocked.json()["error"]
    assert error["code"] == "RATE_LIMITED"
    assert 1 <= int(blocked["Retry-After"]) <= 15 * 60
    assert error["details"]["retry_after"] == int(blocked["Retry-After"])


def test_one_address_guessing_across_many_accounts_is_limited(
    settings: Any, make_user: Any
) -> None:
    limits(settings, address="3/15min")
    victims = [make_user(f"victim{i}@example.com") for i in range(4)]

    statuses = [api_login(ATTACKER, v.email, "wrong-guess").status_code for v in victims]

    assert statuses == [401, 401, 401, 429]
    assert api_login(OWNER_HOME, victims[3].email, PASSWORD).status_code == 200


def test_an_account_under_attack_from_many_addresses_still_admits_a_fresh_address(
    settings: Any, owner: Any
) -> None:
    limits(settings, account="4/15min")
    botnet = [f"192.0.2.{i}" for i in range(1, 5)]
    first_round = [api_login(ip, owner.email, "wrong-guess").status_code for ip in botnet]

    second_try = api_login(botnet[0], owner.email, "wrong-guess-2")
    fresh_guess = api_login("192.0.2.99", owner.email, "wrong-guess")
    owner_answer = api_login(OWNER_HOME, owner.email, PASSWORD)
    fresh_again = api_login("192.0.2.99", owner.email, "wrong-guess-2")

    assert first_round == [401] * 4
    # The account is over its limit: addresses that already failed for it are refused...
    assert second_try.status_code == 429
    # ...an address that has not failed gets its one guess, and the owner gets in.
    assert fresh_guess.status_code == 401
    assert owner_answer.status_code == 200
    assert fresh_again.status_code == 429


def test_a_right_password_clears_that_address_s_failures(owner: Any) -> None:
    typos = [api_login(OWNER_HOME, owner.email, f"typo-{i}").status_code for i in range(4)]
    success = api_login(OWNER_HOME, owner.email, PASSWORD)
    later = [api_login(OWNER_HOME, owner.email, f"later-{i}").status_code for i in range(6)]

    assert typos == [401] * 4
    assert success.status_code == 200
    assert later == [401] * 5 + [429]


def test_unknown_and_known_accounts_are_limited_alike(owner: Any) -> None:
    unknown = [api_login(ATTACKER, "nobody@example.com", "x").status_code for _ in range(6)]
    known = [api_login(ATTACKER, owner.email, "x").status_code for _ in range(6)]

    assert unknown == known == [401] * 5 + [429]


def test_the_sign_in_page_is_limited_the_same_way(owner: Any) -> None:
    attempts = [page_login(ATTACKER, owner.email, f"guess-{i}") for i in range(6)]
    owner_page = page_login(OWNER_HOME, owner.email, PASSWORD)

    assert [r.status_code for r in attempts[:5]] == [200] * 5
    assert "not correct" in attempts[0].content.decode()
    refused = attempts[5]
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "Too many failed sign-in attempts" in refused.content.decode()
    assert owner_page.status_code == 302


def test_the_admin_login_is_limited_and_the_staff_member_still_gets_in(staff: Any) -> None:
    attempts = [admin_login(ATTACKER, staff.email, f"guess-{i}") for i in range(40)]
    staff_answer = admin_login(OWNER_HOME, staff.email, PASSWORD)

    statuses = [r.status_code for r in attempts]
    assert statuses[:5] == [200] * 5
    assert set(statuses[5:]) == {429}
    assert "Too many failed sign-in attempts" in attempts[-1].content.decode()
    assert staff_answer.status_code == 302
    assert staff_answer["Location"] == "/admin/"


def test_the_forms_share_one_budget_per_address_and_account(owner: Any) -> None:
    api = [api_login(ATTACKER, owner.email, "x").status_code for _ in range(2)]
    pages = [page_login(ATTACKER, owner.email, "x").status_code for _ in range(2)]
    admin = [admin_login(ATTACKER, owner.email, "x").status_code for _ in range(2)]

    assert api == [401, 401]
    assert pages == [200, 200]
    assert admin == [200, 429]


def test_a_right_password_without_admin_access_is_not_counted_as_a_guess(owner: Any) -> None:
    answers = [admin_login(OWNER_HOME, owner.email, PASSWORD).status_code for _ in range(7)]

    assert answers == [200] * 7  # the form explains the account is not staff, every time
    assert api_login(OWNER_HOME, owner.email, PASSWORD).status_code == 200


def test_limits_can_be_switched_off(settings: Any, owner: Any) -> None:
    settings.RATE_LIMIT_ENABLED = False

    statuses = [api_login(ATTACKER, owner.email, "x").status_code for _ in range(8)]

    assert statuses == [401] * 8
