"""Changing flows from the dashboard: only valid JSON, no lost update, revisions, and a
history of who changed a flow's state (FlowEvent)."""

import difflib
import hashlib
import json
from dataclasses import dataclass

from django.contrib.admin.models import CHANGE, DELETION, LogEntry
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from flows.models import Flow, FlowDescription, FlowEvent, FlowRevision
from runner.validation import flow_diagnostics


class InvalidDefinition(Exception):
    """The text is not a definition the engine accepts; nothing was saved."""

    def __init__(self, diagnostics: list) -> None:
        super().__init__(f"the definition has {len(diagnostics)} problem(s); nothing was saved")
        self.diagnostics = diagnostics


class StaleEdit(Exception):
    """The flow changed since the editor loaded it; nothing was saved."""

    def __init__(self, current: Flow) -> None:
        super().__init__(f"flow {current.flow_name!r} was changed by someone else since you opened it")
        self.current = current


class FlowMoved(Exception):
    """The flow was deleted, renamed or removed since the page was loaded; nothing was saved.

    `current` is the flow as it is now (found by its id), or None when its row is gone.
    """

    def __init__(self, current: Flow | None) -> None:
        super().__init__("the flow was deleted, renamed or removed meanwhile; nothing was saved")
        self.current = current


class NameTaken(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(f"A flow named {name!r} already exists (perhaps among the deleted flows).")


def check_name_free(name: str, *, exclude_pk: int | None = None) -> None:
    """NameTaken if any flow, deleted ones included, holds the name (in the database's own
    comparison: on MySQL a case-only difference is the same name, as its unique key says)."""
    if Flow.all_objects.filter(flow_name=name).exclude(pk=exclude_pk).exists():
        raise NameTaken(name)


def json_hash(text: str) -> str:
    """The version token of a definition: what the editor loaded, compared on save."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def flow_version(flow: Flow) -> str:
    """The version token of every field the admin form posts, and the deleted state: a save
    from a form loaded before any of them changed is refused (it would silently undo it)."""
    fields = [flow.flow_name, flow.flow_json or "", bool(flow.enabled), bool(flow.deleted)]
    return json_hash(json.dumps(fields))


def clean_text(text: str) -> str:
    # Browsers submit textarea lines with CRLF; store what the user sees, with plain LF.
    return text.replace("\r\n", "\n")


def save_definition(flow: Flow, text: str, *, base_hash: str, user: str, note: str = "edit") -> FlowRevision:
    """Store text as the flow's definition if the row still holds the version hashed base_hash.

    The row is read under a lock and compared in Python, then written in the same
    transaction, so two editors saving at once cannot both succeed from the same base
    version. (Hashing in SQL instead would hash the column's own encoding: a latin1 legacy
    table would never match the UTF-8 hash the editor carries.)
    """
    errors = flow_diagnostics(text, flow_name=flow.flow_name)
    if errors:
        raise InvalidDefinition(errors)
    with transaction.atomic():
        try:
            current = lock_flow(flow.pk)
        except Flow.DoesNotExist as err:
            raise FlowMoved(None) from err
        if current.deleted or current.flow_name != flow.flow_name:
            raise FlowMoved(current)
        if json_hash(current.flow_json) != base_hash:
            raise StaleEdit(current)
        if not FlowRevision.objects.filter(flow_id=flow.pk).exists():
            # A flow written before the dashboard existed has no history yet: keep the
            # version this save replaces, so the first edit can be undone too.
            record_revision(current, current.flow_json, user="", note="original")
        Flow.all_objects.filter(pk=flow.pk).update(flow_json=text, updated_at=timezone.now())
        return record_revision(current, text, user=user, note=note)


def lock_flow(pk: int) -> Flow:
    """The flow's row as it is now, locked until the transaction ends (SQLite: the
    IMMEDIATE transaction already holds the database's write lock)."""
    return Flow.all_objects.select_for_update().get(pk=pk)


def create_flow(name: str, text: str, *, user: str, description: str = "") -> Flow:
    errors = flow_diagnostics(text, flow_name=name)
    if errors:
        raise InvalidDefinition(errors)
    try:
        with transaction.atomic():
            flow = Flow.objects.create(flow_name=name, flow_json=text, enabled=True)
            record_revision(flow, text, user=user, note="created")
            if description:
                FlowDescription.objects.create(flow_id=flow.pk, text=description, updated_by=user)
    except IntegrityError as err:
        raise NameTaken(name) from err
    return flow


def rename_flow(flow: Flow, new_name: str, *, by: AbstractBaseUser) -> Flow:
    """Give a flow (not deleted) a new name. Its runs, revisions and concurrency gate are keyed
    by its id and stay attached; a new flow may then take the old name and starts empty.
    NameTaken if another flow, deleted ones included, holds the name."""
    try:
        with transaction.atomic():
            current = Flow.objects.select_for_update().get(pk=flow.pk)
            check_name_free(new_name, exclude_pk=current.pk)
            Flow.all_objects.filter(pk=current.pk).update(flow_name=new_name, updated_at=timezone.now())
            old_name, current.flow_name = current.flow_name, new_name
            record_event(current, FlowEvent.Action.RENAMED, by, previous_name=old_name)
    except IntegrityError as err:
        raise NameTaken(new_name) from err
    return current


def record_revision(flow: Flow, text: str, *, user: str, note: str) -> FlowRevision:
    """A new revision, numbered next in its flow. Callers hold the flow's row lock (lock_flow;
    a flow inserted in the same transaction is locked by its insert), so two saves cannot
    take the same number; the unique key (flow_id, number) would refuse the second."""
    with transaction.atomic():
        return FlowRevision.objects.create(
            flow_id=flow.pk,
            number=next_revision_number(flow.pk),
            flow_name=flow.flow_name,
            flow_json=text,
            saved_by=user,
            note=note,
        )


def next_revision_number(flow_id: int) -> int:
    # A locking read sees the newest committed revision even in a transaction that reads an
    # older snapshot (MySQL's REPEATABLE READ, when a deployment chooses it).
    numbers = FlowRevision.objects.select_for_update().filter(flow_id=flow_id).order_by("-number")
    return (numbers.values_list("number", flat=True).first() or 0) + 1


def record_event(
    flow: Flow, action: str, by: AbstractBaseUser, *, previous_name: str = "", admin_log: bool = True
) -> FlowEvent:
    """Record who changed the flow's state, in its history and (admin_log) in the admin's log,
    whose "Recent actions" and the flow's admin history then show it. The admin passes
    admin_log=False where Django logs the change itself. Called inside the change's own
    transaction: the change and its record are written together or not at all."""
    event = FlowEvent.objects.create(
        flow_id=flow.pk,
        flow_name=flow.flow_name,
        previous_name=previous_name,
        action=action,
        by=by.get_username(),
    )
    if admin_log and by.pk is not None:
        flag = DELETION if action == FlowEvent.Action.DELETED else CHANGE
        message = f"{event.summary.capitalize()}."
        LogEntry.objects.log_actions(by.pk, [flow], flag, change_message=message, single_object=True)
    return event


def set_enabled(flow: Flow, enabled: bool, *, by: AbstractBaseUser) -> None:
    with transaction.atomic():
        flow.enabled = enabled
        flow.save(update_fields=["enabled", "updated_at"])
        record_event(flow, FlowEvent.Action.ENABLED if enabled else FlowEvent.Action.DISABLED, by)


def delete_flow(flow: Flow, *, by: AbstractBaseUser) -> None:
    """A soft delete: the flow is hidden and cannot run; restore_flow brings it back."""
    with transaction.atomic():
        flow.soft_delete()
        record_event(flow, FlowEvent.Action.DELETED, by)


def restore_flow(flow: Flow, *, by: AbstractBaseUser) -> None:
    with transaction.atomic():
        flow.restore()
        record_event(flow, FlowEvent.Action.RESTORED, by)


def set_description(flow: Flow, text: str, *, by: AbstractBaseUser) -> bool:
    """Store the flow's description (an empty text removes it); False when it was unchanged."""
    text = clean_text(text).strip()
    current = FlowDescription.objects.filter(flow_id=flow.pk).values_list("text", flat=True).first() or ""
    if text == current:
        return False
    with transaction.atomic():
        if text:
            FlowDescription.objects.update_or_create(
                flow_id=flow.pk, defaults={"text": text, "updated_by": by.get_username()}
            )
        else:
            FlowDescription.objects.filter(flow_id=flow.pk).delete()
        record_event(flow, FlowEvent.Action.DESCRIBED, by)
    return True


MAX_DIFF_CHARS = 200_000


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "add", "del", "hunk", "meta" or "same"
    text: str


def diff_lines(old: str, new: str, old_label: str, new_label: str) -> tuple[list[DiffLine], bool]:
    """A unified diff of two definitions as classed lines, and whether it was reformatted.

    A one-line (minified) definition diffs as a single changed line, which helps nobody:
    when both sides parse as JSON and one is a single line, both are pretty-printed first.
    """
    if max(len(old), len(new)) > MAX_DIFF_CHARS:
        # difflib's time grows much faster than the text: a 5 MB definition would hold a
        # worker for minutes. Say so instead of diffing.
        note = f"(too large to diff here: over {MAX_DIFF_CHARS:,} characters)"
        return [DiffLine("meta", note)], False
    reformatted = False
    if old != new and min(old.count("\n"), new.count("\n")) == 0:
        try:
            old, new = (json.dumps(json.loads(t), indent=2, ensure_ascii=False) for t in (old, new))
            reformatted = True
        except (ValueError, TypeError):
            pass
    lines = difflib.unified_diff(
        old.splitlines(), new.splitlines(), fromfile=old_label, tofile=new_label, lineterm=""
    )
    return [DiffLine(_kind(line), line) for line in lines], reformatted


def _kind(line: str) -> str:
    if line.startswith(("---", "+++")):
        return "meta"
    if line.startswith("@@"):
        return "hunk"
    return {"+": "add", "-": "del"}.get(line[:1], "same")
