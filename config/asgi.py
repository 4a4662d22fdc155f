"""ASGI entry point: Django for HTTP, Channels consumers for /ws/ (served by daphne)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from django.conf import settings  # noqa: E402

if settings.EMBEDDED:
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    # Embedded mode has no nginx in front: serve static files from the app itself.
    django_asgi_app = ASGIStaticFilesHandler(django_asgi_app)

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from realtime.gate import SocketGate  # noqa: E402
from realtime.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Origin policy and credentials (token or cookie) in one place: see realtime/gate.py.
        "websocket": SocketGate(URLRouter(websocket_urlpatterns)),
    }
)
