import json

import pytest
from django.db import connection

from flows.models import Flow

pytestmark = pytest.mark.django_db


def insert_raw_flow(name: str, flow_json: str, enabled: int = 1, deleted: int = 0) -> None:
    # As a legacy writer would: plain SQL, TINYINT flags, no ORM.
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO wf_flow (flow_name, flow_json, enabled, deleted, created_at, updated_at)"
            " VALUES (%s, %s, %s, %s, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
            [name, flow_json, enabled, deleted],
        )


def test_soft_deleted_flows_are_hidden_by_default():
    Flow.objects.create(flow_name="kept", flow_json="{}")
    Flow.objects.create(flow_name="gone", flow_json="{}", deleted=True)

    assert list(Flow.objects.values_list("flow_name", flat=True)) == ["kept"]


def test_soft_deleted_flows_remain_reachable_through_all_objects():
    Flow.objects.create(flow_name="gone", flow_json="{}", deleted=True)

    assert Flow.all_objects.get(flow_name="gone").deleted is True


def test_soft_delete_keeps_the_row_and_restore_brings_it_back():
    flow = Flow.objects.create(flow_name="f", flow_json="{}")

    flow.soft_delete()
    assert not Flow.objects.filter(flow_name="f").exists()
    Flow.all_objects.get(flow_name="f").restore()

    assert Flow.objects.filter(flow_name="f").exists()


def test_runnable_excludes_disabled_and_deleted_flows():
    insert_raw_flow("on", "{}")
    insert_raw_flow("off", "{}", enabled=0)
    insert_raw_flow("deleted", "{}", deleted=1)

    assert list(Flow.all_objects.runnable().values_list("flow_name", flat=True)) == ["on"]


def test_tinyint_flags_read_as_booleans():
    insert_raw_flow("raw", "{}", enabled=0, deleted=0)

    flow = Flow.objects.get(flow_name="raw")

    assert flow.enabled is False and flow.deleted is False


def test_row_with_invalid_json_is_readable_and_reports_the_parse_error():
    insert_raw_flow("broken", '{"procedures": [')

    flow = Flow.objects.get(flow_name="broken")

    assert flow.flow_json == '{"procedures": ['
    assert flow.json_error.startswith("Invalid JSON:")
    assert "line 1 column" in flow.json_error


def test_valid_json_parses_to_the_definition():
    flow = Flow(flow_json=json.dumps({"procedures": []}))

    assert flow.parse_definition() == ({"procedures": []}, None)


def test_unicode_survives_a_round_trip():
    text = json.dumps({"procedures": [], "note": "ünïcødé 日本 🚀"}, ensure_ascii=False)
    Flow.objects.create(flow_name="名前-🚀", flow_json=text)

    assert Flow.objects.get(flow_name="名前-🚀").flow_json == text


def test_deleting_from_the_admin_is_a_soft_delete(admin_client):
    flow = Flow.objects.create(flow_name="f", flow_json="{}")

    response = admin_client.post(f"/admin/flows/flow/{flow.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert Flow.all_objects.get(pk=flow.pk).deleted is True


def test_admin_shows_a_row_with_invalid_json_as_invalid(admin_client):
    insert_raw_flow("broken", '{"procedures": [')
    flow = Flow.objects.get(flow_name="broken")

    listing = admin_client.get("/admin/flows/flow/")
    change = admin_client.get(f"/admin/flows/flow/{flow.pk}/change/")

    assert b"invalid JSON" in listing.content
    assert change.status_code == 200


def test_admin_refuses_to_save_invalid_json(admin_client):
    flow = Flow.objects.create(flow_name="f", flow_json="{}")

    response = admin_client.post(
        f"/admin/flows/flow/{flow.pk}/change/", {"flow_name": "f", "flow_json": "{oops", "enabled": "on"}
    )

    assert response.status_code == 200
    assert b"INVALID_JSON at" in response.content
    assert Flow.objects.get(pk=flow.pk).flow_json == "{}"


def test_admin_refuses_a_definition_the_engine_rejects(admin_client):
    flow = Flow.objects.create(flow_name="f", flow_json="{}")
    text = '{"procedures": [{"name": "s", "mod": "common.Kt", "method": "prt", "params": {"msg": "@nope"}}]}'

    response = admin_client.post(
        f"/admin/flows/flow/{flow.pk}/change/", {"flow_name": "f", "flow_json": text, "enabled": "on"}
    )

    assert b"UNKNOWN_STEP_REF at procedures[0].params.msg" in response.content
    assert Flow.objects.get(pk=flow.pk).flow_json == "{}"


def test_a_row_with_an_integer_over_4300_digits_reports_it_as_a_parse_error():
    insert_raw_flow("big", '{"procedures": [' + "1" * 5000 + "]}")

    flow = Flow.objects.get(flow_name="big")

    assert (
        flow.json_error == "Invalid JSON: a number in the JSON has more than 4300 digits (line 1, column 17)"
    )


def test_a_row_with_nan_reports_it_as_not_json():
    flow = Flow(flow_json='{"procedures": [NaN]}')

    assert (
        flow.json_error
        == "Invalid JSON: NaN is not a JSON number: numbers must be finite (line 1, column 17)"
    )
