"""The flow editor: validation as you type, saving only valid definitions, no lost update."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from flows.editing import StaleEdit, json_hash, save_definition
from flows.models import Flow, FlowRevision
from tests.factories import EXAMPLE_JSON, client_for, definition, make_run, make_user, step

pytestmark = pytest.mark.django_db

UNKNOWN_REF = definition(step("step1", msg="hello"), step("step2", msg="@stepp1.msg"))
FIXED = definition(step("step1", msg="hello"), step("step2", msg="@step1.msg"), step("step3", msg="@step2"))


def insert_raw_flow(name: str, flow_json: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO wf_flow (flow_name, flow_json, enabled, deleted, created_at, updated_at)"
            " VALUES (%s, %s, 1, 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
            [name, flow_json],
        )


def save(client, text: str, base: str, follow: bool = False, **extra):
    return client.post("/flows/example/save/", {"flow_json": text, "base": base, **extra}, follow=follow)


def test_the_editor_shows_the_definition_with_its_version_token(client, flow):
    html = client.get("/flows/example/").content.decode()

    assert 'id="flow-json"' in html
    assert "@step1.msg" in html
    assert f'value="{json_hash(EXAMPLE_JSON)}"' in html


def test_the_textarea_validates_as_you_type_through_htmx(client, flow):
    html = client.get("/flows/example/").content.decode()

    assert 'hx-post="/flows/example/validate/"' in html
    assert 'hx-trigger="input changed delay:400ms"' in html


def test_validate_returns_the_diagnostics_of_an_unknown_reference(client, flow):
    response = client.post("/flows/example/validate/", {"flow_json": UNKNOWN_REF}, HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="diagnostics"' in html
    assert "UNKNOWN_STEP_REF" in html
    assert "procedures[1].params.msg" in html
    assert "did you mean step1?" in html
    assert "<html" not in html


def test_validate_highlights_the_offending_step_in_the_diagram(client, flow):
    html = client.post(
        "/flows/example/validate/", {"flow_json": UNKNOWN_REF}, HTTP_HX_REQUEST="true"
    ).content.decode()

    assert '<g class="step err" data-step="step2"' in html
    assert '<g class="step" data-step="step1"' in html


def test_validate_redraws_the_diagram_with_an_arrow_per_reference(client, flow):
    html = client.post(
        "/flows/example/validate/", {"flow_json": FIXED}, HTTP_HX_REQUEST="true"
    ).content.decode()

    assert "Valid: the definition can run" in html
    assert html.count('class="ref"') == 2
    assert "2 data reference(s)" in html


def test_validate_reports_bad_json_with_line_and_column(client, flow):
    html = client.post(
        "/flows/example/validate/", {"flow_json": '{"procedures": [\n  {"name": }'}, HTTP_HX_REQUEST="true"
    ).content.decode()

    assert "INVALID_JSON" in html
    assert "line 2 column" in html
    assert "No diagram" in html


def test_check_without_javascript_renders_the_whole_editor_with_the_text_kept(client, flow):
    response = client.post(
        "/flows/example/validate/", {"flow_json": UNKNOWN_REF, "base": json_hash(EXAMPLE_JSON)}
    )

    html = response.content.decode()
    assert "<html" in html
    assert "UNKNOWN_STEP_REF" in html
    assert "@stepp1.msg" in html


def test_a_legacy_row_with_invalid_json_renders_as_invalid_with_the_parse_error(client):
    insert_raw_flow("broken", '{"procedures": [')

    response = client.get("/flows/broken/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "invalid JSON" in html
    assert 'id="json-error"' in html
    assert "line 1 column 17" in html
    assert "INVALID_JSON" in html


def test_a_legacy_row_with_invalid_json_shows_on_the_overview(client):
    insert_raw_flow("broken", "not json at all")

    response = client.get("/")

    assert response.status_code == 200
    assert "broken" in response.content.decode()


def test_save_stores_a_valid_definition_and_redirects_to_the_editor(client, flow):
    response = save(client, FIXED, json_hash(EXAMPLE_JSON))

    assert response.status_code == 302
    assert response["Location"] == "/flows/example/"
    assert Flow.objects.get(pk=flow.pk).flow_json == FIXED


def test_save_stores_browser_line_endings_as_plain_newlines(client, flow):
    save(client, FIXED.replace("\n", "\r\n"), json_hash(EXAMPLE_JSON))

    assert Flow.objects.get(pk=flow.pk).flow_json == FIXED


def test_save_refuses_an_invalid_definition_and_keeps_the_text(client, flow):
    response = save(client, UNKNOWN_REF, json_hash(EXAMPLE_JSON), follow=True)

    html = response.content.decode()
    assert response.redirect_chain == [("/flows/example/", 303)]
    assert response.status_code == 200
    assert "Not saved" in html
    assert "UNKNOWN_STEP_REF" in html
    assert "@stepp1.msg" in html
    assert Flow.objects.get(pk=flow.pk).flow_json == EXAMPLE_JSON
    assert not FlowRevision.objects.exists()


def test_a_reload_after_a_refused_save_shows_the_kept_text_again(client, flow):
    save(client, UNKNOWN_REF, json_hash(EXAMPLE_JSON), follow=True)

    html = client.get("/flows/example/").content.decode()

    assert 'id="unsaved"' in html
    assert "@stepp1.msg" in html
    assert f'name="base" value="{json_hash(EXAMPLE_JSON)}"' in html


def test_the_kept_text_says_how_many_problems_it_has(client, flow):
    save(client, UNKNOWN_REF, json_hash(EXAMPLE_JSON))

    html = client.get("/flows/example/").content.decode()

    assert "1 problem, listed beside it" in html


def test_saving_the_fixed_text_ends_the_kept_text(client, flow):
    save(client, UNKNOWN_REF, json_hash(EXAMPLE_JSON))

    response = save(client, FIXED, json_hash(EXAMPLE_JSON), follow=True)

    html = response.content.decode()
    assert "Saved as revision 2." in html  # revision 1 keeps the version it replaced
    assert 'id="unsaved"' not in html
    assert Flow.objects.get(pk=flow.pk).flow_json == FIXED


def test_discarding_the_kept_text_shows_the_saved_definition(client, flow):
    save(client, UNKNOWN_REF, json_hash(EXAMPLE_JSON))

    response = client.post("/flows/example/discard-draft/", follow=True)

    html = response.content.decode()
    assert "Your unsaved text was discarded" in html
    assert 'id="unsaved"' not in html
    assert "@stepp1.msg" not in html


def test_the_kept_text_belongs_to_the_session_that_wrote_it(client, flow):
    save(client, UNKNOWN_REF, json_hash(EXAMPLE_JSON))
    other = client_for(make_user("bea", "view_flow", "change_flow"))

    html = other.get("/flows/example/").content.decode()

    assert "@stepp1.msg" not in html


def test_a_refused_text_too_large_to_keep_is_shown_once_with_the_refusal(client, flow, monkeypatch):
    monkeypatch.setattr("flows.views.flows.MAX_DRAFT_CHARS", 100)

    response = save(client, UNKNOWN_REF, json_hash(EXAMPLE_JSON))

    html = response.content.decode()
    assert response.status_code == 400
    assert "too large to keep" in html
    assert "@stepp1.msg" in html and "UNKNOWN_STEP_REF" in html


def test_a_text_too_large_to_keep_is_not_followed_by_an_older_kept_one(client, flow, monkeypatch):
    save(client, UNKNOWN_REF, json_hash(EXAMPLE_JSON))
    monkeypatch.setattr("flows.views.flows.MAX_DRAFT_CHARS", 100)
    save(client, UNKNOWN_REF.replace("hello", "hello again"), json_hash(EXAMPLE_JSON))

    html = client.get("/flows/example/").content.decode()

    assert 'id="unsaved"' not in html
    assert "@stepp1.msg" not in html


def test_save_of_an_unchanged_definition_records_nothing(client, flow):
    response = save(client, EXAMPLE_JSON, json_hash(EXAMPLE_JSON))

    assert response.status_code == 302
    assert not FlowRevision.objects.exists()


def test_a_stale_edit_is_refused_with_a_diff_and_both_texts_kept(client, flow):
    loaded = json_hash(EXAMPLE_JSON)
    theirs = definition(step("step1", msg="from them"), step("step2", msg="@step1.msg"))
    Flow.objects.filter(pk=flow.pk).update(flow_json=theirs)

    response = save(client, FIXED, loaded, follow=True)

    html = response.content.decode()
    assert response.redirect_chain == [("/flows/example/", 303)]
    assert "someone else saved this flow" in html
    assert 'id="conflict-diff"' in html
    assert "diff-add" in html and "diff-del" in html
    assert "from them" in html  # their version, shown
    assert "@step2" in html  # our text, still in the editor
    assert Flow.objects.get(pk=flow.pk).flow_json == theirs


def test_after_a_conflict_the_plain_save_button_still_refuses(client, flow):
    loaded = json_hash(EXAMPLE_JSON)
    theirs = definition(step("step1", msg="from them"))
    Flow.objects.filter(pk=flow.pk).update(flow_json=theirs)

    html = save(client, FIXED, loaded, follow=True).content.decode()

    assert f'name="base" value="{loaded}"' in html
    assert f'name="overwrite" value="{json_hash(theirs)}"' in html


def test_replacing_their_version_after_seeing_the_diff_saves_mine(client, flow):
    theirs = definition(step("step1", msg="from them"))
    Flow.objects.filter(pk=flow.pk).update(flow_json=theirs)

    response = save(client, FIXED, json_hash(EXAMPLE_JSON), overwrite=json_hash(theirs))

    assert response.status_code == 302
    assert Flow.objects.get(pk=flow.pk).flow_json == FIXED


def test_the_compare_and_set_lets_only_the_first_of_two_saves_from_one_version_win(flow):
    base = json_hash(EXAMPLE_JSON)
    save_definition(flow, FIXED, base_hash=base, user="ann")

    with pytest.raises(StaleEdit) as refused:
        save_definition(flow, definition(step("only", msg="hello")), base_hash=base, user="bob")

    assert refused.value.current.flow_json == FIXED
    assert Flow.objects.get(pk=flow.pk).flow_json == FIXED


def test_the_compare_and_set_locks_the_row_it_compares(flow):
    with CaptureQueriesContext(connection) as captured:
        save_definition(flow, FIXED, base_hash=json_hash(EXAMPLE_JSON), user="ann")

    on_flow = [q["sql"] for q in captured.captured_queries if "wf_flow" in q["sql"]]
    assert on_flow[0].startswith("SELECT")
    if connection.features.has_select_for_update:
        assert "FOR UPDATE" in on_flow[0]
    assert on_flow[-1].startswith("UPDATE")


def test_the_editor_posts_the_id_of_the_flow_it_edits(client, flow):
    html = client.get("/flows/example/").content.decode()

    assert f'name="flow_id" value="{flow.pk}"' in html


def test_saving_a_flow_deleted_meanwhile_keeps_the_text_with_a_message(client, flow):
    Flow.all_objects.filter(pk=flow.pk).update(deleted=True)

    response = save(client, FIXED, json_hash(EXAMPLE_JSON), follow=True, flow_id=flow.pk)

    html = response.content.decode()
    assert response.redirect_chain == [("/flows/example/", 303)]
    assert "was deleted while you edited it" in html
    assert "@step2" in html  # the text that was not saved
    assert Flow.all_objects.get(pk=flow.pk).flow_json == EXAMPLE_JSON


def test_saving_a_flow_renamed_meanwhile_keeps_the_text_in_its_editor_under_the_new_name(client, flow):
    Flow.objects.filter(pk=flow.pk).update(flow_name="nightly")

    response = save(client, FIXED, json_hash(EXAMPLE_JSON), follow=True, flow_id=flow.pk)

    html = response.content.decode()
    assert response.redirect_chain == [("/flows/nightly/", 303)]
    assert "renamed from" in html and "nightly" in html
    assert 'action="/flows/nightly/save/"' in html
    assert "@step2" in html
    assert Flow.objects.get(pk=flow.pk).flow_json == EXAMPLE_JSON


def test_a_save_never_lands_in_a_new_flow_that_took_the_edited_flows_name(client, flow):
    Flow.objects.filter(pk=flow.pk).update(flow_name="nightly")
    newcomer = Flow.objects.create(flow_name="example", flow_json=EXAMPLE_JSON)

    response = save(client, FIXED, json_hash(EXAMPLE_JSON), flow_id=flow.pk)

    assert response["Location"] == "/flows/nightly/"
    assert Flow.objects.get(pk=newcomer.pk).flow_json == EXAMPLE_JSON
    assert Flow.objects.get(pk=flow.pk).flow_json == EXAMPLE_JSON


def test_saving_a_flow_removed_from_the_table_offers_the_text_as_a_new_flow(client, flow):
    Flow.all_objects.filter(pk=flow.pk).delete()

    response = save(client, FIXED, json_hash(EXAMPLE_JSON), flow_id=flow.pk)

    html = response.content.decode()
    assert response.status_code == 404
    assert "no longer exists" in html
    assert 'id="new-flow-form"' in html
    assert 'value="example"' in html and "@step2" in html


def test_a_save_without_the_flow_id_of_a_deleted_flow_still_keeps_the_text(client, flow):
    Flow.all_objects.filter(pk=flow.pk).update(deleted=True)

    response = save(client, FIXED, json_hash(EXAMPLE_JSON), follow=True)

    assert response.redirect_chain == [("/flows/example/", 303)]
    assert "@step2" in response.content.decode()


def test_a_deleted_flow_opens_read_only_with_a_restore_button(client, flow):
    Flow.all_objects.filter(pk=flow.pk).update(deleted=True)

    html = client.get("/flows/example/").content.decode()

    assert "This flow is deleted" in html
    assert "Restore flow" in html
    assert 'id="save-flow"' not in html
    assert 'id="run-flow"' not in html


def test_an_unknown_flow_is_not_found(client):
    assert client.get("/flows/nope/").status_code == 404


def test_a_flow_named_like_a_page_has_its_own_editor(client):
    Flow.objects.create(flow_name="deleted", flow_json=EXAMPLE_JSON)

    response = client.get("/flows/deleted/")

    assert response.status_code == 200
    assert '<span id="flow-name">deleted</span>' in response.content.decode()


def test_a_flow_name_with_spaces_and_unicode_round_trips_through_its_url(client):
    Flow.objects.create(flow_name="nightly import ✓ #1?", flow_json=EXAMPLE_JSON)

    html = client.get("/").content.decode()
    url = "/flows/nightly%20import%20%E2%9C%93%20%231%3F/"

    assert url in html
    assert client.get(url).status_code == 200


def test_the_flow_page_lists_its_recent_runs_newest_first(client, flow):
    older, newer = make_run(), make_run()
    make_run(flow_name="other")

    html = client.get("/flows/example/").content.decode()

    assert html.index(f'data-run="{newer.pk}"') < html.index(f'data-run="{older.pk}"')
    assert html.count("data-run=") == 2


def test_definitions_too_large_to_diff_quickly_get_a_note_instead():
    from flows.editing import MAX_DIFF_CHARS, diff_lines

    big = "x\n" * MAX_DIFF_CHARS

    lines, _ = diff_lines(big, big + "y", "a", "b")

    assert [line.text for line in lines] == [f"(too large to diff here: over {MAX_DIFF_CHARS:,} characters)"]


def validate(client, text: str):
    return client.post("/flows/example/validate/", {"flow_json": text}, HTTP_HX_REQUEST="true")


def every_earlier(count: int) -> str:
    """count steps, each taking the result of every earlier one."""
    return definition(
        *(step(f"s{i}", msg="hello", **{f"r{j}": f"@s{j}" for j in range(i)}) for i in range(count))
    )


def test_validate_draws_at_most_200_steps_and_says_how_many_more(client, flow):
    html = validate(client, definition(*(step(f"s{i}", msg="hello") for i in range(250)))).content.decode()

    assert html.count('<g class="step') == 200
    assert "50 more steps not drawn" in html


def test_validate_draws_at_most_300_data_arrows_and_says_how_many_more(client, flow):
    html = validate(client, every_earlier(30)).content.decode()  # 435 producer-consumer pairs

    assert html.count('class="ref"') == 300
    assert "135 more data references not drawn" in html


def test_validate_lists_at_most_100_diagnostics_and_says_how_many_more(client, flow):
    html = validate(
        client, definition(step("s0", msg="hello", **{f"x{i}": "@" for i in range(130)}))
    ).content.decode()

    assert html.count('class="diagnostic"') == 100
    assert "130 problems" in html
    assert "30 more problems not shown" in html


def test_a_viewer_gets_a_bounded_analysis_of_a_definition_full_of_references(flow):
    viewer = client_for(make_user("viewer", "view_flow"))

    response = validate(viewer, every_earlier(300))  # 44,850 references

    assert response.status_code == 200
    assert 'class="flow-diagram"' in response.content.decode()
    assert len(response.content) < 1_000_000


def test_validate_answers_long_names_and_references_with_a_bounded_response(client, flow):
    long = "x" * 400_000
    text = definition(
        step("a" + long, msg="hello"), step("b", msg="hello", **{f"r{i}": f"@{long}{i}" for i in range(5)})
    )

    response = validate(client, text)

    assert response.status_code == 200
    assert "UNKNOWN_STEP_REF" in response.content.decode()
    assert len(response.content) < 200_000
