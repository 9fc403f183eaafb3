"""Django's ModelBackend, with a user's permissions read in one plain statement."""

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connections, router


class PermissionsInOneQuery(ModelBackend):
    """ModelBackend, except that a user who is not a superuser has their own and their
    groups' permissions read in one plain statement: the ModelBackend's two ORM queries took
    2 ms of a 7 ms log page, 1.4 ms of it to build them (benchmarks/logviewer.py). The answer
    is the same (tests/web/test_permissions_in_one_query.py); superusers, inactive and
    anonymous users and object permissions are left to the ModelBackend.
    """

    def get_all_permissions(self, user_obj, obj=None):
        usual = obj is not None or user_obj.is_anonymous or not user_obj.is_active or user_obj.is_superuser
        if usual or hasattr(user_obj, "_perm_cache"):
            return super().get_all_permissions(user_obj, obj)
        user_obj._perm_cache = {f"{app}.{codename}" for app, codename in _granted(user_obj)}
        return user_obj._perm_cache


def _granted(user) -> list[tuple[str, str]]:
    """(app label, codename) of the permissions given to the user or to one of their groups."""
    connection = connections[router.db_for_read(Permission)]
    q = connection.ops.quote_name

    def through(model, name: str) -> tuple[str, str, str]:
        # A many-to-many field's table, its column to `model`, its column to the other model.
        field = model._meta.get_field(name)
        return q(field.m2m_db_table()), q(field.m2m_column_name()), q(field.m2m_reverse_name())

    own, own_user, own_permission = through(type(user), "user_permissions")
    member, member_user, member_group = through(type(user), "groups")
    granted, granted_group, granted_permission = through(Group, "permissions")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT ct.app_label, p.codename FROM {q(Permission._meta.db_table)} p"
            f" JOIN {q(ContentType._meta.db_table)} ct ON ct.id = p.content_type_id"
            f" WHERE p.id IN (SELECT {own_permission} FROM {own} WHERE {own_user} = %s)"
            f" OR p.id IN (SELECT g.{granted_permission} FROM {granted} g JOIN {member} m"
            f" ON m.{member_group} = g.{granted_group} WHERE m.{member_user} = %s)",
            [user.pk, user.pk],
        )
        return cursor.fetchall()
