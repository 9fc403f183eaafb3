"""The procedure catalogue: every procedure the allow-listed packages expose, with what its
declaration says (runner.engine.declare), for the /procedures/ page and the editor.

A procedure is listed only when the loader would load it for a step: the modules below each
package are walked, and each class named like its module and defined there is offered to
ProcedureLoader with each of its public names. So the catalogue never lists what a flow
cannot use. A module that cannot be imported is an entry with a ``problem`` and no method.
"""

import importlib
import inspect
import json
import pkgutil
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .declare import Declaration, Param, Result, declaration_of
from .loader import ProcedureLoader

_PUBLIC_PATH = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)*\Z")  # what the loader accepts
# What a snippet puts for a required param without choices: an empty value of its type.
PLACEHOLDERS = {
    "string": "",
    "integer": 0,
    "number": 0,
    "boolean": False,
    "object": {},
    "array": [],
    "any": None,
}


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    """One procedure (``mod``, ``method``), or a module that cannot be imported (``problem``).

    ``mod`` is relative to ``package``, as a step writes it ("common.Kt"). ``doc`` is the
    method's docstring, else its class's, cleaned; ``summary`` the declared one, else the
    doc's first line. ``params`` and ``results`` are the declaration's, None when it does not
    say (an undeclared procedure has both None). ``snippet`` is a step, as JSON text.
    """

    mod: str
    method: str
    package: str
    doc: str = ""
    summary: str = ""
    params: Mapping[str, Param] | None = None
    results: Mapping[str, Result] | None = None
    extra_params: bool = False
    extra_results: bool = False
    snippet: str = ""
    problem: str = ""


def list_procedures(packages: Sequence[str] | str) -> list[CatalogueEntry]:
    """Every procedure of the packages (a sequence or one comma-separated string), sorted by
    mod and method; imports their modules, runs nothing else."""
    loader = ProcedureLoader(packages)
    entries: list[CatalogueEntry] = []
    for root in dict.fromkeys(loader.packages):  # a package named twice is listed once
        entries += _package(loader, root)
    return sorted(entries, key=lambda entry: (entry.mod, entry.method, entry.package))


def _package(loader: ProcedureLoader, root: str) -> list[CatalogueEntry]:
    try:
        package = importlib.import_module(root)
    except Exception as err:
        return [_problem("", root, f"package {root} cannot be imported: {type(err).__name__}: {err}")]
    path = getattr(package, "__path__", None)
    if path is None:
        return [_problem("", root, f"{root} is a module, not a package: procedures are modules below it")]
    entries = []
    # Each module is imported here, before walk_packages imports it to look inside, so an
    # error is caught once, as this module's entry; walk_packages is told to go on quietly.
    for info in pkgutil.walk_packages(path, root + ".", onerror=lambda name: None):
        mod = info.name[len(root) + 1 :]
        if not _PUBLIC_PATH.match(mod):
            continue  # the loader refuses private names: nothing below them is usable
        try:
            module = importlib.import_module(info.name)
        except Exception as err:
            entries.append(
                _problem(mod, root, f"module {info.name} cannot be imported: {type(err).__name__}: {err}")
            )
            continue
        entries += _procedures(loader, root, mod, module)
    return entries


def _procedures(loader: ProcedureLoader, root: str, mod: str, module) -> list[CatalogueEntry]:
    cls = vars(module).get(mod.rpartition(".")[2])
    if not isinstance(cls, type) or cls.__module__ != module.__name__:
        return []  # a helper module, with no class of its name
    if loader.problem(mod) is not None or loader.load_class(mod) is not cls:
        return []  # an earlier package has a module of the same path: steps get that one
    names = sorted({name for owner in cls.__mro__ for name in vars(owner) if name[:1] != "_"})
    entries = []
    for method in names:
        if loader.problem(mod, method) is None:
            func = loader.load(mod, method)[1]
            entries.append(_entry(root, mod, method, cls, func))
    return entries


def _entry(root: str, mod: str, method: str, cls: type, func) -> CatalogueEntry:
    doc = inspect.cleandoc(func.__doc__ or cls.__doc__ or "")
    declaration = declaration_of(func)
    if declaration is None:
        return CatalogueEntry(mod, method, root, doc, _first_line(doc), snippet=snippet(mod, method, None))
    return CatalogueEntry(
        mod,
        method,
        root,
        doc,
        declaration.summary or _first_line(doc),
        declaration.params,
        declaration.results,
        declaration.extra_params,
        declaration.extra_results,
        snippet(mod, method, declaration),
    )


def snippet(mod: str, method: str, declaration: Declaration | None) -> str:
    """A step calling the procedure, as JSON text: its required params with their first
    choice or an empty value of their type, its optional ones with a default with it."""
    params = {}
    for name, spec in (declaration.params if declaration else {}).items():
        if spec.required:
            params[name] = spec.choices[0] if spec.choices else PLACEHOLDERS.get(spec.type)
        elif spec.has_default:
            params[name] = spec.default
    step = {"name": method, "mod": mod, "method": method, "params": params}
    # A default that is not a JSON value (a mistake in the declaration) is shown as text.
    return json.dumps(step, indent=2, ensure_ascii=False, default=str)


def _first_line(doc: str) -> str:
    return doc.partition("\n")[0].strip()


def _problem(mod: str, root: str, problem: str) -> CatalogueEntry:
    return CatalogueEntry(mod, "", root, problem=problem)
