"""What every API endpoint shares: the contract's error body and statuses, pagination, schema
helpers. The codes themselves and `ServiceError` live in common.errors (services use them)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import bad_request as django_bad_request
from django.views.defaults import page_not_found
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.validators import ProhibitSurrogateCharactersValidator
from rest_framework.views import exception_handler as drf_exception_handler

from common.errors import ErrorCode, ServiceError
from common.ratelimit import RateLimited

STATUS_FOR_CODE = {
    ErrorCode.INVALID_FILE_FORMAT: status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
    ErrorCode.FILE_TOO_LARGE: status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    ErrorCode.PROCESSING_FAILED: status.HTTP_422_UNPROCESSABLE_ENTITY,
    ErrorCode.STORAGE_QUOTA_EXCEEDED: status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    ErrorCode.UNAUTHORIZED_ACCESS: status.HTTP_401_UNAUTHORIZED,
    ErrorCode.VALIDATION_ERROR: status.HTTP_400_BAD_REQUEST,
    ErrorCode.NOT_FOUND: status.HTTP_404_NOT_FOUND,
    ErrorCode.CONFLICT: status.HTTP_409_CONFLICT,
    ErrorCode.RATE_LIMITED: status.HTTP_429_TOO_MANY_REQUESTS,
    ErrorCode.VIRUS_DETECTED: status.HTTP_422_UNPROCESSABLE_ENTITY,
    ErrorCode.UPLOAD_INCOMPLETE: status.HTTP_409_CONFLICT,
    ErrorCode.SERVICE_UNAVAILABLE: status.HTTP_503_SERVICE_UNAVAILABLE,
}


class ApiError(exceptions.APIException):
    """An error the client can act on, rendered as the contract's error body.

    Views raise it with a code from `ErrorCode`, a sentence for the user and optional
    machine-readable details; services raise `ServiceError`, rendered the same way.
    """

    def __init__(
        self,
        code: str,
        message: str,
        details: dict[str, Any] | None = None,
        *,
        http_status: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail=message, code=code)
        self.error_code = code
        self.message = message
        self.details = details or {}
        self.status_code = http_status or STATUS_FOR_CODE[code]
        self.headers = headers or {}


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def error_response(
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    *,
    http_status: int | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    return Response(
        error_body(code, message, details),
        status=http_status or STATUS_FOR_CODE[code],
        headers=headers,
    )


def body_too_large_error() -> ApiError:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0
    return ApiError(
        ErrorCode.FILE_TOO_LARGE,
        f"The request body is larger than the {limit / 1024**2:g} MiB this server accepts. "
        "Send less at once (large files go through the chunked upload).",
        {"max_bytes": limit},
    )


def _suspicious_request_error(exc: SuspiciousOperation) -> ApiError | None:
    """Django refuses a body too large or with too many form fields or files with a
    SuspiciousOperation, which it would answer with its HTML 400 page."""
    if isinstance(exc, RequestDataTooBig):
        return body_too_large_error()
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return ApiError(
            ErrorCode.VALIDATION_ERROR,
            "The request has too many form fields or files. Send fewer at once.",
        )
    return None


def _first_message(detail: Any) -> str:
    if isinstance(detail, dict):
        for field, value in detail.items():
            text = _first_message(value)
            if field in ("non_field_errors", "detail"):
                return text
            return f"{field}: {text}"
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    return str(detail)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Render every error as `{"error": {"code", "message", "details"}}`."""
    if isinstance(exc, SuspiciousOperation):
        exc = _suspicious_request_error(exc) or exc
    if isinstance(exc, RateLimited):
        exc = ApiError(
            ErrorCode.RATE_LIMITED,
            exc.message,
            {"retry_after": exc.retry_after},
            headers={"Retry-After": str(exc.retry_after)},
        )
    if isinstance(exc, ApiError):
        return error_response(
            exc.error_code,
            exc.message,
            exc.details,
            http_status=exc.status_code,
            headers=exc.headers,
        )
    if isinstance(exc, ServiceError):
        return error_response(exc.code, exc.message, exc.details)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    if isinstance(exc, Http404):
        return error_response(ErrorCode.NOT_FOUND, "This item does not exist or is not yours.")
    if isinstance(exc, PermissionDenied):
        # A member whose role does not allow the action (projects.selectors.RoleRequired).
        return error_response(
            ErrorCode.UNAUTHORIZED_ACCESS,
            str(exc) or "You are not allowed to do this.",
            getattr(exc, "details", None),
            http_status=status.HTTP_403_FORBIDDEN,
        )

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    headers = {k: v for k, v in response.items() if k in ("Retry-After", "WWW-Authenticate")}
    if isinstance(exc, exceptions.ValidationError):
        body = error_body(
            ErrorCode.VALIDATION_ERROR,
            f"Please correct the request: {_first_message(exc.detail)}",
            {"fields": exc.detail},
        )
    elif isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        body = error_body(
            ErrorCode.UNAUTHORIZED_ACCESS,
            "Sign in to continue: the credentials are missing, invalid or expired.",
        )
        response.status_code = status.HTTP_401_UNAUTHORIZED
        headers.setdefault("WWW-Authenticate", 'Bearer realm="api"')
    elif isinstance(exc, exceptions.PermissionDenied):
        body = error_body(ErrorCode.UNAUTHORIZED_ACCESS, "You are not allowed to do this.")
    elif isinstance(exc, exceptions.NotFound):
        body = error_body(ErrorCode.NOT_FOUND, "This item does not exist or is not yours.")
    elif isinstance(exc, exceptions.Throttled):
        body = error_body(
            ErrorCode.RATE_LIMITED,
            "Too many requests. Please wait a moment and try again.",
            {"retry_after": getattr(exc, "wait", None)},
        )
    elif isinstance(exc, exceptions.UnsupportedMediaType | exceptions.ParseError):
        body = error_body(ErrorCode.VALIDATION_ERROR, str(exc.detail))
        response.status_code = status.HTTP_400_BAD_REQUEST
    elif isinstance(exc, exceptions.MethodNotAllowed | exceptions.NotAcceptable):
        body = error_body(ErrorCode.VALIDATION_ERROR, str(exc.detail))
    else:
        body = error_body(ErrorCode.VALIDATION_ERROR, _first_message(response.data))
    response.data = body
    for key, value in headers.items():
        response[key] = value
    return response


def json_text_validator(value: Any) -> None:
    """Refuse, anywhere inside a JSON value (keys included), the characters DRF's CharField
    refuses: NUL, which PostgreSQL cannot store, and lone surrogates, which UTF-8 cannot encode.
    Without it such a value answers 500 when it is saved."""
    if isinstance(value, str):
        if "\x00" in value:
            raise serializers.ValidationError("Null characters are not allowed.")
        ProhibitSurrogateCharactersValidator()(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            json_text_validator(key)
            json_text_validator(item)
    elif isinstance(value, list):
        for item in value:
            json_text_validator(item)


def document_response_headers(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: the headers every 302 and 429 answer carries, which
    `extend_schema` cannot declare per response."""
    headers = {
        "302": {"Location": "Where the file is: a short-lived (signed) URL."},
        "429": {"Retry-After": "Seconds to wait before trying again."},
    }
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for code, response in operation.get("responses", {}).items():
                for name, description in headers.get(code, {}).items():
                    response.setdefault("headers", {})[name] = {
                        "schema": {"type": "string"},
                        "required": True,
                        "description": description,
                    }
    return result


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The URLconf's 404 (`handler404`): an address no route matches, e.g. a malformed id, answers
    the contract's error body under /api/ and Django's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            error_body(
                ErrorCode.NOT_FOUND,
                "Nothing exists at this address. Check the path and the id in it.",
                {"path": request.path},
            ),
            status=status.HTTP_404_NOT_FOUND,
        )
    return page_not_found(request, exception)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The URLconf's 400 (`handler400`), for what Django refuses before or outside a DRF view
    (a body over DATA_UPLOAD_MAX_MEMORY_SIZE, too many fields): JSON under /api/."""
    if request.path.startswith("/api/"):
        error = (
            _suspicious_request_error(exception)
            if isinstance(exception, SuspiciousOperation)
            else None
        ) or ApiError(ErrorCode.VALIDATION_ERROR, "The request is malformed.")
        return JsonResponse(
            error_body(error.error_code, error.message, error.details), status=error.status_code
        )
    return django_bad_request(request, exception)


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200


# --- OpenAPI: the error body, for `extend_schema(responses={..., **error_responses(...)})` ---


ERROR_CODES = sorted(STATUS_FOR_CODE)


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=ERROR_CODES)
    message = serializers.CharField(help_text="A sentence the user can act on.")
    details = serializers.DictField(help_text="Machine-readable specifics, e.g. `fields`.")


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


ERROR_DESCRIPTIONS = {
    400: "VALIDATION_ERROR: the request is malformed; `details.fields` names the bad fields.",
    401: "UNAUTHORIZED_ACCESS: the credentials are missing, invalid or expired.",
    403: "UNAUTHORIZED_ACCESS: this action is not allowed.",
    404: "NOT_FOUND: no such item, or it belongs to someone else.",
    409: "CONFLICT or UPLOAD_INCOMPLETE: the item's state does not allow this now.",
    413: "FILE_TOO_LARGE or STORAGE_QUOTA_EXCEEDED.",
    415: "INVALID_FILE_FORMAT: the file is not a video this server can read.",
    422: "PROCESSING_FAILED or VIRUS_DETECTED.",
    429: "RATE_LIMITED: too many requests; retry after `Retry-After` seconds.",
    503: "SERVICE_UNAVAILABLE: a service this request needs is down; try again shortly.",
}


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """The contract's error body for each status an endpoint can answer with; 429 always, as
    every endpoint is rate limited."""
    return {
        code: OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code])
        for code in sorted({*statuses, 429})
    }


def paginated_response(
    request: Any, queryset: Any, serializer_class: type[Any], *, view: Any
) -> Response:
    """One page of `queryset` as `{count, next, previous, results}`."""
    paginator = Pagination()
    page: list[Any] | None = paginator.paginate_queryset(queryset, request, view=view)
    data = serializer_class(page, many=True, context={"request": request}).data
    return paginator.get_paginated_response(data)
