"""What the admin shares: the index's order, and for every admin of a big table read-only,
only its filters' lookups and a bounded count.

Runs, revisions and log lines are written by the system and grow without bound; their
changelists must stay cheap whatever their size.
"""

from django.contrib import admin
from django.core.paginator import Paginator
from django.utils.functional import cached_property

# The admin index and its sidebar list the product's records first, then the accounts, then
# the queue's plumbing (read-only); Django would sort the apps by name ("Workflows" last).
APP_ORDER = ["flows", "runner", "schedules", "auth"]
MODEL_ORDER = ["Flow", "FlowRevision", "FlowEvent", "SysLog", "Run"]
PLUMBING = {"django_tasks_database": "Task queue internals (read-only)"}


def product_first(app_list: list[dict]) -> list[dict]:
    """The admin's app list in APP_ORDER, the plumbing last under a name saying what it is."""

    def app_rank(app: dict) -> tuple[int, str]:
        label = app["app_label"]
        rank = APP_ORDER.index(label) if label in APP_ORDER else len(APP_ORDER) + (label in PLUMBING)
        return rank, app["name"]

    def model_rank(model: dict) -> tuple[int, str]:
        name = model["object_name"]
        return (MODEL_ORDER.index(name) if name in MODEL_ORDER else len(MODEL_ORDER)), model["name"]

    ordered = []
    for app in sorted(app_list, key=app_rank):
        name = PLUMBING.get(app["app_label"], app["name"])
        ordered.append({**app, "name": name, "models": sorted(app["models"], key=model_rank)})
    return ordered


class CappedCountPaginator(Paginator):
    """Never COUNT(*) a table of millions of rows: count at most 100 pages' rows plus one.

    The bounded queries read no more rows than the admin's last page would. A smaller table
    shows its real count and pages; a bigger one shows "more than 10,000" and 100 pages.
    Not more: the admin pages with OFFSET, and a link to page 10,000,000 would make the
    database skip that many rows. Older rows are the dashboard's job (keyset pages).
    """

    max_pages = 100

    @cached_property
    def _counted(self) -> int:
        # Unordered: any rows answer the question, by whichever index is cheapest.
        rows, cap = self.object_list.order_by(), self.max_pages * self.per_page
        # Is there a row past the cap (`SELECT 1 ... LIMIT 1 OFFSET 10000`)? It reads as many
        # index entries as the count, but MariaDB copies none into a derived table: 1.0 ms
        # instead of 1.8 for the log lines, a tenth of their page. Only a smaller table counts.
        if rows[cap : cap + 1].exists():
            return cap + 1
        return rows[: cap + 1].count()

    @property
    def capped(self) -> bool:
        """More rows than counted: templates/admin/pagination.html says "more than"."""
        return self._counted > self.max_pages * self.per_page

    @cached_property
    def count(self) -> int:
        return min(self._counted, self.max_pages * self.per_page)


class FilterLookupsOnly(admin.ModelAdmin):
    """A changelist that takes from the query string only the lookups its filters make.

    Django allows any lookup on a model's own fields (`?message__regex=(a+)+$`,
    `?context__contains=x`); on a table of millions of rows each is a full scan, outside the
    log viewer's bounded window. Any other lookup answers 400 (DisallowedModelAdminLookup).
    """

    def lookup_allowed(self, lookup, value, request) -> bool:
        return lookup in self.filter_lookups(request)

    def filter_lookups(self, request) -> set[str]:
        allowed = set()
        for item in self.get_list_filter(request):
            if isinstance(item, type) and issubclass(item, admin.SimpleListFilter):
                allowed.add(item.parameter_name)
            else:
                # A field's own filter: the choices and boolean filters used here ask
                # `?field__exact=` (and `?field__isnull=` for an empty value).
                name = item[0] if isinstance(item, (list, tuple)) else item
                allowed |= {f"{name}__exact", f"{name}__isnull"}
        return allowed


class ReadOnlyAdmin(FilterLookupsOnly):
    """For records only the system writes: logs, revisions, runs (big tables)."""

    paginator = CappedCountPaginator
    # The changelist would otherwise also count the whole table ("N total"), and facets
    # (`?_facets`) every filter choice.
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 100

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
