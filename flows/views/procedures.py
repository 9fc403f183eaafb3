"""The procedure catalogue (being written: issue 17)."""

from django.http import Http404, HttpRequest, HttpResponse


def procedure_list(request: HttpRequest) -> HttpResponse:
    raise Http404("not yet")


def procedure_catalogue(request: HttpRequest) -> HttpResponse:
    raise Http404("not yet")
