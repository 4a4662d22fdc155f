"""The API's JSON parser: DRF's, with the limits API.md sets on what a JSON body may be.

DRF's own JSONParser reads the whole body with no size limit (Django's
DATA_UPLOAD_MAX_MEMORY_SIZE only guards `request.body` and forms) and lets Python's `json`
raise RecursionError on a body nested about a thousand levels deep: a 500 for anyone, even
before sign-in. This one reads at most DATA_UPLOAD_MAX_MEMORY_SIZE bytes (413 beyond) and
refuses a body nested deeper than JSON_MAX_DEPTH levels (400 VALIDATION_ERROR).
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from rest_framework.parsers import BaseParser

JSON_MAX_DEPTH = 32


class JSONTooDeep(ValueError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"nested more than {limit} levels deep")
        self.limit = limit


def _refuse_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; PostgreSQL's jsonb refuses them later with a 500.
    raise ValueError(f"{name} is not a JSON value")


def json_depth_exceeds(value: Any, limit: int) -> bool:
    """True when `value` has more than `limit` levels of nested arrays and objects.

    Iterative, so it can never overflow the stack itself, and it stops at the first branch
    that goes too deep."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def json_parse(
    text: bytes | str, *, max_depth: int = JSON_MAX_DEPTH, allow_constants: bool = False
) -> Any:
    """Parse JSON nested at most `max_depth` levels; NaN and Infinity only if allowed.

    Raises JSONTooDeep (a ValueError) for too deep a document and ValueError for anything
    that is not JSON. Also for readers that must never see a deep document (OTIO's)."""
    try:
        value = json.loads(text, parse_constant=None if allow_constants else _refuse_constant)
    except RecursionError:
        # Python's parser gives up near its recursion limit (~1000 levels): far too deep.
        raise JSONTooDeep(max_depth) from None
    if json_depth_exceeds(value, max_depth):
        raise JSONTooDeep(max_depth)
    return value


class JSONParser(BaseParser):
    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        # common.api is imported here: it imports DRF's views, whose APIView class reads
        # DEFAULT_PARSER_CLASSES, which names this module.
        from common.api import ApiError, ErrorCode, body_too_large_error

        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if limit is not None else stream.read()
        if limit is not None and len(raw) > limit:
            raise body_too_large_error()
        try:
            return json_parse(raw)
        except JSONTooDeep as exc:
            raise ApiError(
                ErrorCode.VALIDATION_ERROR,
                f"The JSON body is nested more than {exc.limit} levels deep. "
                "Send a flatter document.",
                {"max_depth": exc.limit},
            ) from None
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            raise ApiError(
                ErrorCode.VALIDATION_ERROR,
                f"The body is not valid JSON: {exc}.",
                {"reason": str(exc)[:300]},
            ) from exc
