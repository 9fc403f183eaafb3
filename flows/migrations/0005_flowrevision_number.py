"""Revisions numbered 1, 2, 3 ... within each flow; the global id stays internal."""

from django.db import migrations, models

BATCH = 1000


def number_revisions(apps, schema_editor):
    # Existing rows in id order (the order they were saved in), counted per flow.
    FlowRevision = apps.get_model("flows", "FlowRevision")
    rows = FlowRevision.objects.order_by("flow_id", "id").only("id", "flow_id")
    batch, flow_id, number = [], None, 0
    for revision in rows.iterator(chunk_size=BATCH):
        number = number + 1 if revision.flow_id == flow_id else 1
        flow_id = revision.flow_id
        revision.number = number
        batch.append(revision)
        if len(batch) == BATCH:
            FlowRevision.objects.bulk_update(batch, ["number"])
            batch = []
    FlowRevision.objects.bulk_update(batch, ["number"])


class Migration(migrations.Migration):
    dependencies = [
        ("flows", "0004_flowdescription"),
    ]

    operations = [
        migrations.AddField(
            model_name="flowrevision",
            name="number",
            field=models.PositiveIntegerField(null=True),
        ),
        migrations.RunPython(number_revisions, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="flowrevision",
            name="number",
            field=models.PositiveIntegerField(),
        ),
        migrations.AddConstraint(
            model_name="flowrevision",
            constraint=models.UniqueConstraint(fields=("flow_id", "number"), name="flowrevision_number"),
        ),
        # The unique key (flow_id, number) serves a flow's newest revisions now.
        migrations.RemoveIndex(
            model_name="flowrevision",
            name="flowrevision_recent",
        ),
    ]
