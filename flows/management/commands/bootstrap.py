import json
import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from flows.models import Flow

EXAMPLE_FLOW = {
    "procedures": [
        {"name": "step1", "mod": "common.Kt", "method": "prt", "params": {"msg": "hello"}},
        {"name": "step2", "mod": "common.Kt", "method": "prt", "params": {"msg": "@step1.msg"}},
    ]
}


class Command(BaseCommand):
    help = (
        "First-run data: the example flow `example` (when absent) and a first admin user "
        "(when there is no superuser). Safe to repeat."
    )

    def handle(self, *args, **options):
        _, created = Flow.all_objects.get_or_create(
            flow_name="example", defaults={"flow_json": json.dumps(EXAMPLE_FLOW, indent=2)}
        )
        if created:
            self.stdout.write("Loaded the example flow 'example'.")
        self._ensure_admin()

    def _ensure_admin(self) -> None:
        User = get_user_model()
        if User.objects.filter(is_superuser=True).exists():
            return
        username = os.environ.get("WORKFLOW_ADMIN_USER", "admin")
        password = os.environ.get("WORKFLOW_ADMIN_PASSWORD")
        User.objects.create_superuser(username, "", password or (generated := secrets.token_urlsafe(12)))
        if password:
            self.stdout.write(f"Created admin user '{username}' (password from WORKFLOW_ADMIN_PASSWORD).")
        else:
            self.stdout.write(
                self.style.WARNING(
                    f"Created admin user '{username}' with password: {generated}\n"
                    "It is shown only this once; change it with `manage.py changepassword`."
                )
            )
