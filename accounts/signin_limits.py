"""Limits on password guessing, shared by every form that takes a password: the API's
/api/auth/login, allauth's pages under /accounts/ (through AccountAdapter.authenticate) and
the admin's login (accounts/admin.py).

allauth's own rule (5 failures per e-mail address in 5 minutes, from anywhere) let anyone lock
anyone out: five wrong passwords for someone else's address, and its owner could not sign in
for five minutes from any address. Here failed passwords are counted three ways, in fixed
windows on the shared cache (config/ratelimit.py), and an address is refused when:

- it failed `account_address` times for this account (default 5 per 15 min): guessing one
  account from one address. Only that pair is blocked; the owner elsewhere is not.
- it failed `address` times for any accounts (default 30 per 15 min): one address spraying
  guesses across many accounts.
- the account failed `account` times from all addresses together (default 50 per 15 min:
  guessing from many addresses) *and this address has failed for the account before* in the
  window. An address with no failure for the account is still let through, so the owner, who
  types the right password, always gets in from an address an attacker does not use. A
  botnet gets one guess per fresh address per window once the account is under attack.

Each attempt is counted before the password is checked (so concurrent guesses cannot slip
past a limit) and taken back when the password turns out right; a right password also clears
its own (account, address) failures. A refused attempt checks no password and counts nothing.
The account is keyed by a hash of the lower-cased e-mail address, known or not, so answers
never tell whether an account exists.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from common.ratelimit import RateLimited, Usage, client_ip, consume, forget, parse_rate

MESSAGE = "Too many failed sign-in attempts. Please wait {wait} and try again."


class SignInLimited(RateLimited):
    pass


def _wait_text(seconds: int) -> str:
    minutes = -(-seconds // 60)
    if seconds < 60:
        return f"{seconds} seconds"
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def _account_key(account: str) -> str:
    return hashlib.sha256(account.strip().lower().encode()).hexdigest()[:32]


@dataclass
class SignInAttempt:
    """A password check in progress; call `succeeded()` when the password was right."""

    usages: list[Usage] = field(default_factory=list)
    pair_key: str = ""

    def rollback(self) -> None:
        for usage in self.usages:
            usage.rollback()

    def succeeded(self) -> None:
        self.rollback()
        if self.pair_key:
            forget(self.pair_key, parse_rate(settings.SIGNIN_LIMITS["account_address"]))


def signin_attempt_start(*, request: Any, account: str) -> SignInAttempt:
    """Count a password attempt for `account` from the request's address, or raise
    SignInLimited (with the seconds to wait) if this address may not try now."""
    if not settings.RATE_LIMIT_ENABLED:
        return SignInAttempt()
    limits = settings.SIGNIN_LIMITS
    pair_rate = parse_rate(limits["account_address"])
    address_rate = parse_rate(limits["address"])
    account_rate = parse_rate(limits["account"])
    account_id = _account_key(account)
    address = client_ip(request)
    pair_key = f"signin:pair:{account_id}:{address}"

    pair = consume(pair_key, pair_rate)
    by_address = consume(f"signin:address:{address}", address_rate)
    by_account = consume(f"signin:account:{account_id}", account_rate)
    attempt = SignInAttempt([pair, by_address, by_account], pair_key)

    waits = []
    if pair.count > pair_rate.limit:
        waits.append(pair.seconds_left)
    if by_address.count > address_rate.limit:
        waits.append(by_address.seconds_left)
    # `pair.count > 1`: this address already failed for this account in the window.
    if by_account.count > account_rate.limit and pair.count > 1:
        waits.append(min(by_account.seconds_left, pair.seconds_left))
    if waits:
        attempt.rollback()
        wait = max(1, round(max(waits)))
        raise SignInLimited(MESSAGE.format(wait=_wait_text(wait)), retry_after=wait)
    return attempt
