"""Revision numbers per flow: taken one at a time under the flow's lock, and given to the
revisions saved before they existed by migration 0005."""

import threading

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from flows.editing import StaleEdit, json_hash, save_definition
from flows.models import Flow, FlowRevision
from tests.factories import EXAMPLE, definition, make_flow, step

pytestmark = pytest.mark.django_db(transaction=True)

EDITORS, SAVES_EACH = 4, 3


def save_until_stored(flow_id: int, text: str, user: str) -> None:
    # Each editor retries from the version it finds, as a user would after a conflict.
    while True:
        current = Flow.objects.get(pk=flow_id)
        try:
            save_definition(current, text, base_hash=json_hash(current.flow_json), user=user)
            return
        except StaleEdit:
            continue


def test_concurrent_saves_of_one_flow_take_consecutive_numbers():
    flow = make_flow("example", *EXAMPLE)
    start = threading.Barrier(EDITORS)
    failures = []

    def editor(index: int) -> None:
        try:
            start.wait()
            for save in range(SAVES_EACH):
                save_until_stored(flow.pk, definition(step("s", msg=f"{index}-{save}")), f"editor{index}")
        except Exception as err:  # the assertion below names it
            failures.append(err)
        finally:
            connection.close()

    threads = [threading.Thread(target=editor, args=(i,)) for i in range(EDITORS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    numbers = list(
        FlowRevision.objects.filter(flow_id=flow.pk).order_by("id").values_list("number", flat=True)
    )
    # The first save also keeps the version it replaced.
    assert numbers == list(range(1, EDITORS * SAVES_EACH + 2))


def test_the_migration_numbers_existing_revisions_per_flow_in_id_order():
    before = [("flows", "0004_flowdescription")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps.get_model("flows", "FlowRevision")
    for flow_id in (7, 3, 7, 7, 3):
        old.objects.create(flow_id=flow_id, flow_name=f"flow {flow_id}", flow_json="{}")

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    rows = FlowRevision.objects.order_by("id").values_list("flow_id", "number")
    assert list(rows) == [(7, 1), (3, 1), (7, 2), (7, 3), (3, 2)]
