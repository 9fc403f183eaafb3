"""What every dashboard template may show without its view asking for it."""

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from runner import liveness


def liveness_warnings(request: HttpRequest) -> dict:
    # Lazy: only a template that shows the banner (the overview, a queued run's page) pays its query.
    return {"liveness": SimpleLazyObject(liveness.warnings)}
