# Concurrency gates are keyed by flow id (a renamed flow keeps its gate), and a flow's runs
# are found by flow id. The gate rows only exist to be locked and are recreated on demand,
# so the table is simply recreated: no row needs carrying over.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('runner', '0002_run_flow_name_255'),
    ]

    operations = [
        migrations.DeleteModel(
            name='FlowGate',
        ),
        migrations.CreateModel(
            name='FlowGate',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('flow_id', models.BigIntegerField(unique=True)),
            ],
        ),
        migrations.AddIndex(
            model_name='run',
            index=models.Index(fields=['flow_id', '-id'], name='run_flow_id_recent'),
        ),
    ]
