from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("flows", "0005_flowrevision_number"),
    ]

    operations = [
        migrations.CreateModel(
            name="FlowEvent",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("flow_id", models.BigIntegerField()),
                (
                    "flow_name",
                    models.CharField(help_text="its name at the time (after a rename, the new one)", max_length=128),
                ),
                ("previous_name", models.CharField(blank=True, help_text="a rename's old name", max_length=128)),
                (
                    "action",
                    models.CharField(
                        choices=[
                            ("enabled", "enabled"),
                            ("disabled", "disabled"),
                            ("deleted", "deleted"),
                            ("restored", "restored"),
                            ("renamed", "renamed"),
                            ("described", "description changed"),
                        ],
                        max_length=16,
                    ),
                ),
                ("by", models.CharField(blank=True, max_length=150)),
                ("at", models.DateTimeField(auto_now_add=True)),
            ],
            options={
                "indexes": [models.Index(fields=["flow_id", "-id"], name="flowevent_recent")],
            },
        ),
    ]
