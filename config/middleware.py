"""Cross-cutting HTTP middleware: request ids and latency, /healthz and /metrics, and a clear
503 when a backing service (Redis, the broker, the database) is unreachable."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.utils.deprecation import MiddlewareMixin

from common.api import error_body
from common.errors import ErrorCode
from common.ratelimit import RateLimited
from config.logging import request_id_var

logger = logging.getLogger("clipseq.request")

# A caller's id is reused only if it cannot smuggle anything into logs or headers.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RequestContextMiddleware:
    """Binds a request id (the caller's valid X-Request-ID, or a new one) for the logs, echoes
    it in the response, and records the request's latency for /metrics."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[..., Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def _begin(self, request: HttpRequest) -> Any:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        return request_id_var.set(request_id)

    def _end(self, request: HttpRequest, response: HttpResponse, started: float) -> None:
        from config.metrics import observe_request

        elapsed = time.perf_counter() - started
        response["X-Request-ID"] = request.request_id  # type: ignore[attr-defined]
        match = getattr(request, "resolver_match", None)
        route = match.route if match is not None else "unmatched"
        observe_request(request.method or "", route, response.status_code, elapsed)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        token = self._begin(request)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            self._end(request, response, started)
            return response
        finally:
            request_id_var.reset(token)

    async def __acall__(self, request: HttpRequest) -> Any:
        token = self._begin(request)
        started = time.perf_counter()
        try:
            response = await self.get_response(request)
            self._end(request, response, started)
            return response
        finally:
            request_id_var.reset(token)


class OperationalEndpointsMiddleware(MiddlewareMixin):
    """/healthz and /metrics answer before host validation, the HTTPS redirect, sessions and
    rate limits: load balancers and Prometheus call them by container address over HTTP."""

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        if request.path == "/healthz":
            from config.health import healthz

            return healthz(request)
        if request.path == "/metrics":
            from config.metrics import metrics_view

            return metrics_view(request)
        return None


def _unavailable_service(exc: Exception) -> str | None:
    """Which backing service `exc` says is unreachable, if any."""
    import dramatiq.errors
    import redis
    from django.db import InterfaceError, OperationalError

    if isinstance(exc, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError):
        return "cache"
    if isinstance(exc, dramatiq.errors.BrokerConnectionError):
        return "queue"
    if isinstance(exc, OperationalError | InterfaceError):
        return "database"
    return None


class ServiceUnavailableMiddleware(MiddlewareMixin):
    """A request that fails because Redis, the broker or the database is down answers a clear
    503 (the contract's error body on /api/) instead of a 500; the next request retries the
    connection, so the app recovers by itself once the service is back."""

    def process_exception(self, request: HttpRequest, exception: Exception) -> Any:
        service = _unavailable_service(exception)
        if service is None:
            return None
        logger.warning(
            "%s unavailable for %s %s: %s", service, request.method, request.path, exception
        )
        message = "The service is briefly unavailable. Please try again in a few seconds."
        if request.path.startswith("/api/"):
            response: HttpResponse = JsonResponse(
                error_body(ErrorCode.SERVICE_UNAVAILABLE, message, {"service": service}),
                status=503,
            )
        else:
            response = HttpResponse(message, status=503, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = "5"
        return response


class RateLimitedMiddleware(MiddlewareMixin):
    """A limit reached outside DRF's throttles (a sign-in form's, common.ratelimit.RateLimited)
    answers 429 with Retry-After: the contract's error body on /api/, a page elsewhere."""

    def process_exception(self, request: HttpRequest, exception: Exception) -> Any:
        if not isinstance(exception, RateLimited):
            return None
        if request.path.startswith("/api/"):
            response: HttpResponse = JsonResponse(
                error_body(
                    ErrorCode.RATE_LIMITED,
                    exception.message,
                    {"retry_after": exception.retry_after},
                ),
                status=429,
            )
        else:
            response = TemplateResponse(
                request,
                "429.html",
                {
                    "message": exception.message,
                    "retry_after": exception.retry_after,
                    "back_url": request.path,
                },
                status=429,
            ).render()
        response["Retry-After"] = str(exception.retry_after)
        return response
