"""The editor's analysis (POST /flows/<name>/validate/) on the largest definitions allowed.

    .venv/bin/python benchmarks/analysis.py [--repeat 5] [--only NAME ...]

Each case is a definition as close to MAX_SOURCE_SIZE (5 MB) as its shape allows, except
"valid-20k" (the issue's valid 20,000-step flow). Through Django's test Client, logged in as a
staff user with only the view permission, it times the HTMX validate request (median of
--repeat after one warm-up) against json.loads of the same text in the same run, and prints
the response size. Uses DATABASE_URL (default: a SQLite file in /tmp).
"""

import argparse
import functools
import json
import os
import statistics
import sys
import time

# benchmarks/logging.py would shadow the standard library's logging module.
sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("DATABASE_URL", "sqlite:////tmp/workflow-bench-analysis.sqlite3")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workflow_site.settings")
os.environ.setdefault("WORKFLOW_LOG_FILE", "/tmp/workflow-bench.log")
# Time the request as production serves it: DEBUG off (no query log, no template debug).
os.environ.setdefault("DEBUG", "False")
os.environ.setdefault("SECRET_KEY", "benchmark-only-not-a-secret")
os.environ.setdefault("SECURE_SSL_REDIRECT", "False")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import django

django.setup()

from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.test import Client

from flows.models import Flow
from runner.engine.definition import MAX_SOURCE_SIZE, MAX_STEPS

FLOW = "bench-analysis"


def dump(steps: list) -> str:
    return json.dumps({"procedures": steps}, separators=(",", ":"))


def step(name: str, mod: str = "common.Kt", method: str = "prt", **params) -> dict:
    return {"name": name, "mod": mod, "method": method, "params": params}


def largest(make, most: int = 10**9) -> str:
    """make(n) for the largest n <= most whose text fits in MAX_SOURCE_SIZE."""
    low, high = 1, 2
    while high <= most and len(make(high)) <= MAX_SOURCE_SIZE:
        low, high = high, high * 2
    if high > most and len(make(most)) <= MAX_SOURCE_SIZE:
        return make(most)
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if len(make(middle)) <= MAX_SOURCE_SIZE else (low, middle)
    return make(low)


def all_references(n: int) -> str:
    # The case: every step takes every earlier step's result (1,120 steps in 5 MB).
    return dump([step(f"s{i}", r=[f"@s{j}" for j in range(i)]) for i in range(n)])


def all_references_by_key(n: int) -> str:
    return dump([step(f"s{i}", **{f"r{j}": f"@s{j}" for j in range(i)}) for i in range(n)])


def valid_chain(n: int) -> str:
    return dump([step("s0", msg="hello")] + [step(f"s{i}", msg=f"@s{i - 1}.msg") for i in range(1, n)])


def tiny_steps(n: int) -> str:
    return dump([{"name": f"s{i}", "mod": "common.Kt", "method": "prt"} for i in range(n)])


def bad_references(n: int) -> str:
    return dump([step("s0", r=["@"] * n)])


def unknown_references(n: int) -> str:
    # Half the text is steps (candidates for "did you mean"), half distinct unknown names.
    return dump([step(f"s{i}") for i in range(n)] + [step("z", r=[f"@q{i}" for i in range(n * 4)])])


def missing_modules(n: int) -> str:
    return dump([{"mod": f"x{i}", "method": "m"} for i in range(n)])


def missing_submodules(n: int) -> str:
    return dump([{"mod": f"common.x{i}", "method": "m"} for i in range(n)])


def unknown_methods(n: int) -> str:
    return dump([{"mod": "common.Kt", "method": f"m{i}"} for i in range(n)])


def unknown_keys(n: int) -> str:
    return dump([{"name": f"s{i}", "mod": "common.Kt", "method": "prt", "x": 1} for i in range(n)])


def empty_steps(n: int) -> str:
    return dump([{}] * n)  # three problems each: no name, mod or method


def duplicate_names(n: int) -> str:
    return dump([{"name": "s", "mod": "common.Kt", "method": "prt"} for _ in range(n)])


CASES = {
    "all-references": lambda: largest(all_references),
    "all-references-by-key": lambda: largest(all_references_by_key),
    "valid-20k": lambda: valid_chain(20_000),
    "valid-max": lambda: largest(valid_chain, MAX_STEPS),
    "tiny-steps": lambda: largest(tiny_steps, MAX_STEPS),
    "bad-references": lambda: largest(bad_references),
    "unknown-references": lambda: largest(unknown_references, MAX_STEPS),
    "missing-modules": lambda: largest(missing_modules, MAX_STEPS),
    "missing-submodules": lambda: largest(missing_submodules, MAX_STEPS),
    "unknown-methods": lambda: largest(unknown_methods, MAX_STEPS),
    "unknown-keys": lambda: largest(unknown_keys, MAX_STEPS),
    "duplicate-names": lambda: largest(duplicate_names, MAX_STEPS),
    "empty-steps": lambda: largest(empty_steps, MAX_STEPS),
    "too-many-steps": lambda: largest(empty_steps),
}


def viewer_client() -> Client:
    call_command("migrate", verbosity=0)
    call_command("create_wf_tables", verbosity=0)
    Flow.all_objects.update_or_create(
        flow_name=FLOW, defaults={"flow_json": valid_chain(2), "deleted": False}
    )
    user, _ = User.objects.get_or_create(username="bench-viewer", defaults={"is_staff": True})
    view = Permission.objects.filter(codename="view_flow", content_type__app_label="flows")
    user.user_permissions.set(view)
    client = Client()
    client.force_login(user)
    return client


def timed(call, repeat: int) -> tuple[float, object]:
    result = call()  # warm-up: imports, templates, caches
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - began)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", nargs="*", choices=list(CASES), default=list(CASES))
    args = parser.parse_args()
    client = viewer_client()
    url = f"/flows/{FLOW}/validate/"

    def validate(text):
        def call():
            response = client.post(url, {"flow_json": text}, HTTP_HX_REQUEST="true")
            assert response.status_code == 200, response.status_code
            return response

        return call

    print(f"POST {url} as a viewer (HTMX), median of {args.repeat} after one warm-up")
    print(f"size limit {MAX_SOURCE_SIZE:,} B, at most {MAX_STEPS:,} steps")
    header = ("case", "size B", "steps", "request s", "json.loads s", "ratio", "response B")
    print("{:<22} {:>10} {:>7} {:>10} {:>13} {:>7} {:>11}".format(*header))
    for name in args.only:
        text = CASES[name]()
        steps = len(json.loads(text)["procedures"])
        baseline, _ = timed(functools.partial(json.loads, text), args.repeat)
        seconds, response = timed(validate(text), args.repeat)
        print(
            f"{name:<22} {len(text):>10,} {steps:>7,} {seconds:>10.3f} {baseline:>13.4f} "
            f"{seconds / baseline:>7.1f} {len(response.content):>11,}",
            flush=True,
        )


if __name__ == "__main__":
    main()
