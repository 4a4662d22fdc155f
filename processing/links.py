"""Links to stored files in a job's output, issued per request by the app that owns access.

The engine knows nothing of who may see which project, so the app that does registers, in its
`AppConfig.ready()`, how a serializer context turns into a link issuer (clips registers its
media links). Without one, or without a request, job output carries no links.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any, Protocol


class LinkIssuer(Protocol):
    def url(
        self, *, project_id: uuid.UUID | str | None, key: str, download_name: str | None = None
    ) -> str | None: ...


_issuer_for_context: Callable[[Mapping[str, Any]], LinkIssuer | None] | None = None


def link_issuer_register(factory: Callable[[Mapping[str, Any]], LinkIssuer | None]) -> None:
    global _issuer_for_context
    _issuer_for_context = factory


def link_issuer_for(context: Mapping[str, Any]) -> LinkIssuer | None:
    return _issuer_for_context(context) if _issuer_for_context is not None else None
