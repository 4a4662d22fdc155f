from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

api_patterns: list[URLPattern | URLResolver] = [
    path("", include("accounts.urls")),
    path("", include("projects.urls")),
    path("", include("clips.urls")),
    path("", include("timeline.urls")),
    path("", include("processing.urls")),
    path("", include("processing.export_urls")),
    path("", include("exports.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]

# An unmatched /api/ address answers the contract's JSON error body, not an HTML page.
handler404 = "config.api.not_found"

urlpatterns: list[URLPattern | URLResolver] = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/", include(api_patterns)),
    path("", include("projects.page_urls")),
]

if settings.EMBEDDED and not settings.USE_S3:
    from django.views.static import serve

    # Embedded mode only: the development server hands out media files itself.
    urlpatterns += [
        path(
            f"{settings.MEDIA_URL.strip('/')}/<path:path>",
            serve,
            {"document_root": settings.MEDIA_ROOT},
        )
    ]
