"""The browsable docs page, /api/v1/docs: Swagger UI from the django-ninja package itself.

Without "ninja" in INSTALLED_APPS, ninja's own page loads Swagger UI from a CDN, which the
site's Content-Security-Policy (scripts and styles from this site only) blocks. So the page is
rendered here and its files are served by the API (views.docs_file), and the site's policy
holds on it, but for images: Swagger UI's stylesheet draws its icons as data: URLs.
"""

from functools import cache, wraps
from pathlib import Path

import ninja
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils.csp import CSP
from django.utils.html import format_html, json_script
from django.views.decorators.csp import csp_override
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.openapi.docs import DocsBase

from api.errors import not_allowed

DOCS_CSP = {**settings.SECURE_CSP, "img-src": [*settings.SECURE_CSP.get("img-src", [CSP.SELF]), "data:"]}
FILES = {
    "swagger-ui.css": "text/css",
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-init.js": "text/javascript",
    "favicon.svg": "image/svg+xml",
}
FILES_DIR = Path(ninja.__file__).parent / "static" / "ninja"


class LocalSwagger(DocsBase):
    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs) -> HttpResponse:
        swagger = {"url": self.get_openapi_url(api, kwargs), "layout": "BaseLayout", "deepLinking": True}
        # A logged-in user's "Try it out" goes through their session, with its CSRF token
        # (ninja's swagger-ui-init.js sends it as X-CSRFToken).
        csrf = get_token(request) if request.user.is_authenticated else ""
        page = format_html(
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{}</title>'
            '<link rel="stylesheet" href="{}"><link rel="icon" href="{}" type="image/svg+xml"></head>'
            '<body data-csrf-token="{}" data-api-csrf="{}">{}<div id="swagger-ui"></div>'
            '<script src="{}"></script><script src="{}"></script></body></html>',
            api.title,
            _file_url(api, "swagger-ui.css"),
            _file_url(api, "favicon.svg"),
            csrf,
            "true" if csrf else "",
            json_script(swagger, "swagger-settings"),
            _file_url(api, "swagger-ui-bundle.js"),
            _file_url(api, "swagger-ui-init.js"),
        )
        return HttpResponse(page)


def _file_url(api: NinjaAPI, name: str) -> str:
    return reverse(f"{api.urls_namespace}:docs-file", kwargs={"name": name})


def docs_view(view):
    """The docs page and the OpenAPI document: GET only (else a JSON 405, never Django's
    CSRF page), and the docs page's CSP (the `docs_decorator` of the NinjaAPI)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            return not_allowed(request.method, "GET")
        return view(request, *args, **kwargs)

    return csrf_exempt(csp_override(DOCS_CSP)(wrapper))


def file_response(name: str) -> HttpResponse | None:
    """One of the page's files, or None for any other name."""
    if name not in FILES:
        return None
    response = HttpResponse(_read(name), content_type=FILES[name])
    response["Cache-Control"] = "public, max-age=86400"
    return response


@cache
def _read(name: str) -> bytes:
    return (FILES_DIR / name).read_bytes()
