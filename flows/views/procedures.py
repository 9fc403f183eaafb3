"""/procedures/: the procedure catalogue, as a page and as JSON for the editor's completion."""

import json

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from flows import access
from flows.access import login_required
from runner.engine import CatalogueEntry, list_procedures


@login_required
@require_GET
def procedure_list(request: HttpRequest) -> HttpResponse:
    access.check(request, access.VIEW_FLOWS)
    entries = list_procedures(settings.WORKFLOW_PROCEDURE_PACKAGES)
    usable = [entry for entry in entries if not entry.problem]
    query = request.GET.get("q", "").strip()
    words = query.lower().split()
    shown = [entry for entry in usable if all(word in _haystack(entry) for word in words)]
    context = {
        "procedures": [_on_page(entry) for entry in shown],
        "problems": [entry for entry in entries if entry.problem],
        "total": len(usable),
        "query": query,
        "packages": settings.WORKFLOW_PROCEDURE_PACKAGES,
        "section": "procedures",
    }
    return render(request, "flows/procedures.html", context)


@login_required
@require_GET
def procedure_catalogue(request: HttpRequest) -> HttpResponse:
    """Every usable procedure as JSON, for the editor's completion (modules that cannot be
    imported are left out: no step can use them)."""
    access.check(request, access.VIEW_FLOWS)
    entries = list_procedures(settings.WORKFLOW_PROCEDURE_PACKAGES)
    procedures = [_as_json(entry) for entry in entries if not entry.problem]
    return JsonResponse({"procedures": procedures}, encoder=DjangoJSONEncoder)


def _as_json(entry: CatalogueEntry) -> dict:
    params = results = None
    if entry.params is not None:
        params = [
            {
                "name": name,
                "type": spec.type,
                "required": spec.required,
                "default": _plain(spec.default),  # null when the param has none
                "description": spec.description,
                "choices": [_plain(choice) for choice in spec.choices],
            }
            for name, spec in entry.params.items()
        ]
    if entry.results is not None:
        results = [
            {"name": name, "type": spec.type, "description": spec.description}
            for name, spec in entry.results.items()
        ]
    return {
        "mod": entry.mod,
        "method": entry.method,
        "summary": entry.summary,
        "doc": entry.doc,
        "params": params,
        "results": results,
        "snippet": entry.snippet,
    }


def _on_page(entry: CatalogueEntry) -> dict:
    described = _as_json(entry)
    for row, spec in zip(described["params"] or (), (entry.params or {}).values(), strict=True):
        # Defaults and choices are JSON values: shown as JSON, so "1" and 1 differ.
        row["default"] = _json_text(spec.default) if spec.has_default else None
        row["choices"] = [_json_text(choice) for choice in spec.choices]
    # The summary is shown above the doc: the doc's first line is not repeated under it.
    first, _, rest = entry.doc.partition("\n")
    return {
        **described,
        "more_doc": rest.strip() if first.strip() == entry.summary else entry.doc,
        "package": entry.package,
        "cls": entry.mod.rpartition(".")[2],
        "extra_params": entry.extra_params,
        "extra_results": entry.extra_results,
        "search": _haystack(entry),
    }


def _haystack(entry: CatalogueEntry) -> str:
    return f"{entry.mod}.{entry.method} {entry.summary} {entry.doc}".lower()


def _json_text(value) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, cls=DjangoJSONEncoder)
    except (TypeError, ValueError):
        # A declaration is code: its default may be no JSON value (a set, an object). The
        # page shows its text rather than failing.
        return json.dumps(str(value), ensure_ascii=False)


def _plain(value):
    """A declared default or choice as a JSON value (its text when it is none)."""
    return json.loads(_json_text(value))
