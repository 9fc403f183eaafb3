"""Procedure loading, limited to the allow-listed packages.

A flow definition is data written by people who may not deploy code, so ``mod`` and
``method`` are treated as untrusted: ``mod`` is a dotted path of public names looked up
*below* each allowed package, the class must be defined in that very module, and the method
must be a plain function defined in a class of an allowed package. Modules inside the
allowed packages are trusted code.
"""

import difflib
import importlib
import importlib.util
import os
import re
import sys
from collections.abc import Sequence
from importlib.machinery import BuiltinImporter, FrozenImporter, PathFinder
from types import FunctionType

from .errors import ProcedureLoadError

_PUBLIC_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
_PUBLIC_PATH = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)*\Z")  # dotted public names
_BUILTIN = frozenset(sys.builtin_module_names)
_PACKAGE_PART = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
MAX_HINTS = 100  # "did you mean" suggestions worked out by one loader (one validation)


class ProcedureLoader:
    """Finds ``(class, function)`` for a step's mod and method; caches what it finds.

    ``packages`` is a sequence of package names or one comma-separated string. What it
    finds, and what it fails to find, is cached for its lifetime (one validation or run):
    a flow naming the same missing module on every step looks for it once.
    """

    def __init__(self, packages: Sequence[str] | str) -> None:
        if isinstance(packages, str):
            packages = packages.split(",")
        self.packages = tuple(p.strip() for p in packages if p.strip())
        for root in self.packages:
            if not all(_PACKAGE_PART.match(part) for part in root.split(".")):
                raise ValueError(f"{root!r} is not a valid procedure package name")
        self._classes: dict[str, type | ProcedureLoadError] = {}
        self._methods: dict[tuple[str, str], tuple[type, FunctionType] | ProcedureLoadError] = {}
        self._listings: dict[str | None, set[str] | None] = {}
        self._hints = MAX_HINTS
        self._tops = {root.split(".")[0] for root in self.packages}
        self._top_levels: dict[str, bool] = {}

    def load(self, mod: str, method: str) -> tuple[type, FunctionType]:
        found = self._lookup(mod, method)
        if isinstance(found, ProcedureLoadError):
            # A fresh traceback each time: re-raising one object would chain them all.
            raise found.with_traceback(None)
        return found

    def load_class(self, mod: str) -> type:
        cls = self._class(mod)
        if isinstance(cls, ProcedureLoadError):
            raise cls.with_traceback(None)
        return cls

    def problem(self, mod: str, method: str | None = None) -> ProcedureLoadError | None:
        """What load(mod, method), or load_class(mod) without a method, would raise; raises
        nothing (validation looks up thousands of steps, and raising costs)."""
        found = self._class(mod) if method is None else self._lookup(mod, method)
        return found if isinstance(found, ProcedureLoadError) else None

    def _class(self, mod: str) -> type | ProcedureLoadError:
        cls = self._classes.get(mod)
        if cls is None:
            cls = self._classes[mod] = self._find_class(mod)
        return cls

    def _lookup(self, mod: str, method: str) -> tuple[type, FunctionType] | ProcedureLoadError:
        found = self._methods.get((mod, method))
        if found is None:
            cls = self._class(mod)
            if not isinstance(cls, ProcedureLoadError):
                func = self._method(cls, mod, method)
                found = func if isinstance(func, ProcedureLoadError) else (cls, func)
            else:
                found = cls
            self._methods[(mod, method)] = found
        return found

    def _allowed(self, module_name) -> bool:
        return isinstance(module_name, str) and any(
            module_name == root or module_name.startswith(root + ".") for root in self.packages
        )

    def _find_class(self, mod: str) -> type | ProcedureLoadError:
        def fail(code, message, cause=None):
            error = ProcedureLoadError(message, code=code, field="mod")
            if cause is not None:
                error.__cause__ = cause
            return error

        if not isinstance(mod, str) or not _PUBLIC_PATH.match(mod):
            return fail(
                "FORBIDDEN_PROCEDURE",
                f"mod {mod!r} is not allowed: it must be a dotted path of public names below the "
                f"procedure packages ({', '.join(self.packages)}), like 'common.Kt'",
            )
        parts = mod.split(".")
        for root in self.packages:
            if self._cannot_exist(root, parts):
                continue
            name = f"{root}.{mod}"
            try:
                module = importlib.import_module(name)
            except ModuleNotFoundError as err:
                if err.name and (name == err.name or name.startswith(err.name + ".")):
                    continue
                return fail(
                    "UNKNOWN_PROCEDURE",
                    f"module {name} cannot be imported: it imports {err.name!r}, which is not installed",
                    err,
                )
            except Exception as err:
                return fail(
                    "UNKNOWN_PROCEDURE", f"module {name} cannot be imported: {type(err).__name__}: {err}", err
                )
            cls = getattr(module, parts[-1], None)
            if cls is None:
                return fail("UNKNOWN_PROCEDURE", f"module {name} has no class {parts[-1]}")
            if not isinstance(cls, type) or cls.__module__ != name or module.__name__ != name:
                return fail(
                    "FORBIDDEN_PROCEDURE",
                    f"{name}.{parts[-1]} is not allowed: it must be a class defined in module {name}",
                )
            return cls
        if parts[0] not in self._tops and self._top_level_exists(parts[0]):
            return fail(
                "FORBIDDEN_PROCEDURE",
                f"mod {mod!r} is outside the procedure packages ({', '.join(self.packages)}); "
                "a flow can only use modules below them",
            )
        message = f"no module {mod} in the procedure packages ({', '.join(self.packages)})"
        for root in self.packages:
            if mod.startswith(root + "."):
                message += f"; mod is relative to them: write {mod[len(root) + 1 :]!r}"
        return fail("UNKNOWN_PROCEDURE", message)

    def _method(self, cls: type, mod: str, method: str) -> FunctionType | ProcedureLoadError:
        def fail(code, message):
            return ProcedureLoadError(message, code=code, field="method")

        if not isinstance(method, str) or not _PUBLIC_NAME.match(method):
            return fail(
                "FORBIDDEN_PROCEDURE",
                f"method {method!r} is not allowed: it must be a public name (letters, digits, _; "
                "not starting with _)",
            )
        # Look the name up in the classes themselves, never through an instance, so that
        # instance attributes, __getattr__ and descriptors cannot supply something else.
        for owner in cls.__mro__:
            if method in vars(owner):
                func = vars(owner)[method]
                break
        else:
            hint = []
            if self._hints > 0:  # each suggestion compares every name: a flow gets a bounded number
                self._hints -= 1
                owners = [c for c in cls.__mro__ if self._allowed(c.__module__)]
                public = [n for c in owners for n in vars(c) if n[0] != "_"]
                hint = difflib.get_close_matches(method, public, n=1)
            return fail(
                "UNKNOWN_METHOD",
                f"{mod} has no method {method}" + (f"; did you mean {hint[0]}?" if hint else ""),
            )
        if not (
            isinstance(func, FunctionType)
            and self._allowed(owner.__module__)
            and self._allowed(func.__module__)
        ):
            return fail(
                "FORBIDDEN_PROCEDURE",
                f"{mod}.{method} is not allowed: a method must be a plain function defined in a class "
                "of the procedure packages",
            )
        return func

    def _cannot_exist(self, package: str, parts: list[str]) -> bool:
        """True when a listing of the package's directories shows that importing
        ``package.<parts>`` must fail; False when it might succeed or we cannot tell.

        An import that fails searches the file system each time: a flow naming thousands of
        distinct missing modules would cost that thousands of times. A listing is read once.
        """
        for part in parts:
            listing = self._listing(package)
            if listing is not None and part not in listing and f"{package}.{part}" not in sys.modules:
                return True
            package = f"{package}.{part}"
        return False

    def _top_level_exists(self, name: str) -> bool:
        found = self._top_levels.get(name)
        if found is None:
            listing = self._listing(None)
            if listing is not None and name not in listing and name not in sys.modules:
                # Not in any directory: only a built-in or frozen module (all standard ones).
                found = name in _BUILTIN or name in sys.stdlib_module_names
            else:
                try:
                    found = importlib.util.find_spec(name) is not None
                except (ImportError, ValueError):
                    found = False
            self._top_levels[name] = found
        return found

    def _listing(self, package: str | None) -> set[str] | None:
        """The names (up to the first dot) in the directories the import system searches for
        modules of ``package`` (None: top-level modules), or None when it does not search
        plain directories only (an imported package is needed, and only the standard finders).
        A module that is not a package has no submodules: an empty listing."""
        if package in self._listings:
            return self._listings[package]
        if package is None:
            paths = [entry or os.getcwd() for entry in sys.path]
        elif package not in sys.modules:
            return None  # not imported yet: unsure, and not cached
        else:
            paths = getattr(sys.modules[package], "__path__", ())
        listing = None
        if all(finder in (BuiltinImporter, FrozenImporter, PathFinder) for finder in sys.meta_path):
            listing = set()
            for directory in paths:
                try:
                    listing.update(entry.partition(".")[0] for entry in os.listdir(directory))
                except FileNotFoundError:
                    continue  # searched in vain by the import system too
                except OSError:  # a zip archive, or unreadable: the import system may see more
                    listing = None
                    break
        self._listings[package] = listing
        return listing
