"""What every admin of a big table shares: read-only, only its filters' lookups, no COUNT(*).

Runs, revisions and log lines are written by the system and grow without bound; their
changelists must stay cheap whatever their size.
"""

from django.contrib import admin
from django.core.paginator import Paginator
from django.utils.functional import cached_property


class FixedCountPaginator(Paginator):
    """Never COUNT(*) a table of millions of rows: claim a fixed count of 100 pages.

    Not more: the admin pages with OFFSET, and a link to page 10,000,000 would make the
    database skip that many rows. Older rows are the dashboard's job (keyset pages).
    """

    @cached_property
    def count(self) -> int:
        return 100 * self.per_page


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

    paginator = FixedCountPaginator
    # The changelist would otherwise also count the whole table ("N total").
    show_full_result_count = False
    list_per_page = 100

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
