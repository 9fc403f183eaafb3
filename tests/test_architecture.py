"""The layer rule of docs/architecture.md, beyond what `lint-imports` checks.

Plain functions over the source: no database, no Django setup needed.
"""

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("flows", "runner", "schedules", "alerts", "api", "vault", "builtin", "workflow_site")


def project_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def imported_names(module: str, path: Path) -> set[str]:
    """Every module named by an import anywhere in the file: top level, inside functions,
    under `if TYPE_CHECKING:`; `from a import b` names a.b as well as a."""
    is_package = path.name == "__init__.py"
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".")
                package = package if is_package else package[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join([*package, base] if base else package)
            names.add(base)
            names |= {f"{base}.{alias.name}" for alias in node.names}
    return names


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    graph = {}
    for module, path in modules.items():
        targets = set()
        for name in imported_names(module, path):
            # The most specific project module the name designates.
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != module:
                targets.add(name)
        graph[module] = targets
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                return [*stack[stack.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_project_has_no_import_cycle_counting_lazy_and_type_checking_imports():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_cycle_finder_names_a_cycle_hidden_in_a_function():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]


def test_importing_the_engine_in_a_fresh_interpreter_loads_no_django_and_no_project_app():
    code = "import sys, runner.engine; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    loaded = out.stdout.split()
    assert "runner.engine" in loaded
    assert [m for m in loaded if m.partition(".")[0] in ("django", "flows", "workflow_site")] == []
    assert [m for m in loaded if m.startswith("runner.") and not m.startswith("runner.engine")] == []


def test_the_engine_imports_only_the_standard_library_and_itself():
    modules = project_modules()
    outside = {}
    for module, path in modules.items():
        if module.startswith("runner.engine"):
            for name in imported_names(module, path):
                top = name.partition(".")[0]
                if top not in sys.stdlib_module_names and not name.startswith("runner.engine"):
                    outside.setdefault(module, set()).add(name)
    assert outside == {}


def test_every_project_module_has_a_layer():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    [layers] = [c["layers"] for c in config["contracts"] if c["type"] == "layers"]
    listed = {name.strip() for layer in layers for name in layer.replace("|", ":").split(":")}
    missing = [
        module
        for module in project_modules()
        if module not in ("flows", "runner", "schedules", "alerts", "api", "vault")
        and not any(module == name or module.startswith(name + ".") for name in listed)
    ]
    assert missing == [], "add these modules to a layer in pyproject.toml [tool.importlinter]"
