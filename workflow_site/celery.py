"""The Celery application: `celery -A workflow_site worker` (only with WORKFLOW_QUEUE=celery)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workflow_site.settings")

app = Celery("workflow_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["runner"], related_name="celery_tasks")
