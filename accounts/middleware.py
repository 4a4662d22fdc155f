"""Sign-in pages that must not answer a 500 for a server that is simply not set up for them."""

from __future__ import annotations

import logging
from typing import Any

from allauth.socialaccount.models import SocialApp
from django.contrib import messages
from django.http import HttpRequest
from django.shortcuts import redirect
from django.utils.deprecation import MiddlewareMixin

from accounts.services import DISCORD_NOT_SET_UP

logger = logging.getLogger(__name__)


class ProviderNotConfiguredMiddleware(MiddlewareMixin):
    """allauth raises SocialApp.DoesNotExist when a provider's sign-in page is opened on a
    server without that provider's app (no DISCORD_CLIENT_ID): send the visitor back to the
    sign-in page with a message instead. The API says the same in its own error body."""

    def process_exception(self, request: HttpRequest, exception: Exception) -> Any:
        if not isinstance(exception, SocialApp.DoesNotExist) or request.path.startswith("/api/"):
            return None
        logger.warning("social sign-in opened without a configured app: %s", request.path)
        messages.error(request, DISCORD_NOT_SET_UP)
        return redirect("account_login")
