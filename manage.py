#!/usr/bin/env python
import os
import sys

if sys.version_info < (3, 12):  # noqa: UP036 - a clear message for the wrong interpreter
    sys.exit(
        f"Python 3.12 or newer is needed (this is {sys.version.split()[0]}). "
        "Run `make install` and use .venv/bin/python manage.py ..."
    )


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workflow_site.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
