from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from clips.media_serve import media_file

api_patterns: list[URLPattern | URLResolver] = [
    path("", include("accounts.urls")),
    path("", include("projects.urls")),
    path("", include("clips.urls")),
    path("", include("timeline.urls")),
    path("", include("processing.urls")),
    path("", include("processing.export_urls")),
    path("", include("collaboration.urls")),
    path("", include("exports.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The page and its init script (?script=) are separate, so no inline script is needed.
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="api/swagger_ui.html"),
        name="api-docs",
    ),
]

# An unmatched /api/ address answers the contract's JSON error body, not an HTML page.
handler404 = "common.api.not_found"
handler400 = "common.api.bad_request"

urlpatterns: list[URLPattern | URLResolver] = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/", include(api_patterns)),
    # Media on local disk, only through signed, expiring links (clips/media_links.py).
    path(f"{settings.MEDIA_URL.strip('/')}/<path:key>", media_file, name="media-file"),
    path("", include("projects.page_urls")),
    path("", include("collaboration.page_urls")),
]
