"""Starting a run: the lifecycle creates it, the dispatch hands it over, once each."""

import pytest
from django.db import connection

from runner import dispatch, services
from runner.models import FlowGate
from tests.factories import make_flow, step


@pytest.mark.django_db(transaction=True)
def test_a_start_works_out_the_policy_once_and_creates_the_gate_outside_the_transaction(monkeypatch):
    flow = make_flow("gated", step("s1"))
    policies, gates = [], []
    policy = services.concurrency_policy
    ensure_gate = services.ensure_gate
    monkeypatch.setattr(services, "concurrency_policy", lambda *a: policies.append(a) or policy(*a))
    monkeypatch.setattr(
        services,
        "ensure_gate",
        lambda flow_id: gates.append(connection.in_atomic_block) or ensure_gate(flow_id),
    )

    run = dispatch.start_run(flow, input={}, trigger="test", triggered_by="t", concurrency="skip_if_running")

    assert run.status == "queued"
    assert len(policies) == 1
    assert gates == [False]
    assert FlowGate.objects.filter(flow_id=flow.pk).exists()
