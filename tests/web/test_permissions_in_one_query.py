"""workflow_site.auth.PermissionsInOneQuery: the ModelBackend's permissions, in one query."""

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AnonymousUser, Group, Permission, User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from workflow_site.auth import PermissionsInOneQuery

pytestmark = pytest.mark.django_db


def perms(*codenames: str) -> list[Permission]:
    return list(Permission.objects.filter(codename__in=codenames))


@pytest.fixture
def users() -> list[User]:
    readers, runners = Group.objects.create(name="readers"), Group.objects.create(name="runners")
    readers.permissions.set(perms("view_syslog", "view_flow"))
    runners.permissions.set(perms("view_flow", "change_flow"))
    own = User.objects.create_user("own", is_staff=True)
    own.user_permissions.set(perms("view_syslog"))
    grouped = User.objects.create_user("grouped", is_staff=True)
    grouped.groups.set([readers, runners])
    both = User.objects.create_user("both")
    both.user_permissions.set(perms("view_flow", "delete_flow"))
    both.groups.set([readers])
    inactive = User.objects.create_user("inactive", is_active=False)
    inactive.user_permissions.set(perms("view_syslog"))
    return [
        own,
        grouped,
        both,
        inactive,
        User.objects.create_user("none"),
        User.objects.create_superuser("root"),
        AnonymousUser(),
    ]


def test_it_answers_as_the_model_backend_does(users):
    for user in users:
        # Fresh users: both backends keep what they read on the user object.
        fresh = User.objects.get(pk=user.pk) if user.pk else AnonymousUser()
        expected = ModelBackend().get_all_permissions(fresh)
        fresh = User.objects.get(pk=user.pk) if user.pk else AnonymousUser()

        assert PermissionsInOneQuery().get_all_permissions(fresh) == expected, user
        assert PermissionsInOneQuery().get_all_permissions(fresh, obj=fresh) == set()


def test_a_users_own_and_group_permissions_take_one_query_once_per_request(users):
    both = User.objects.get(username="both")

    with CaptureQueriesContext(connection) as queries:
        assert both.has_perm("flows.view_syslog") and both.has_perm("flows.delete_flow")
        assert not both.has_perm("flows.change_flow")

    assert len(queries) == 1


def test_the_site_uses_it(settings):
    assert settings.AUTHENTICATION_BACKENDS == ["workflow_site.auth.PermissionsInOneQuery"]
