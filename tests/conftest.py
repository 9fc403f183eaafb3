import pytest
from django.core.management import call_command


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    # The wf_ tables are unmanaged, so the test database gets them from schema/, as a
    # real installation would, through the explicit command.
    with django_db_blocker.unblock():
        call_command("create_wf_tables", verbosity=0)


@pytest.fixture(autouse=True)
def _empty_wf_tables_after_transactional_tests(request):
    # Django's flush between transactional tests skips unmanaged tables; empty them here
    # so no test sees another's rows.
    yield
    marker = request.node.get_closest_marker("django_db")
    transactional = marker is not None and (marker.kwargs.get("transaction") or marker.args[:1] == (True,))
    if transactional or {"transactional_db", "live_server"} & set(request.fixturenames):
        from django.db import connection

        with connection.cursor() as cursor:
            for table in ("wf_flow", "wf_syslog"):
                if table in connection.introspection.table_names():
                    cursor.execute(f"DELETE FROM {table}")
