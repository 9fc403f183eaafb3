"""The API's URLs: /api/v1/ (django-ninja), webhooks and the dashboard's token pages."""

from django.urls import path, re_path

from api import hooks, pages, views

urlpatterns = [
    path("api/v1/", views.api.urls),
    # Anything else under /api/ answers JSON too, never the dashboard's HTML 404 page.
    re_path(r"^api(?:/.*)?$", views.not_found),
    path("hooks/<str:secret>", hooks.receive, name="wf-hook"),
    path("tokens/", pages.tokens, name="wf-tokens"),
    path("tokens/<int:token_id>/revoke/", pages.revoke_token, name="wf-token-revoke"),
    path("flows/<flow:name>/webhook/", pages.flow_hook, name="wf-flow-hook"),
]
