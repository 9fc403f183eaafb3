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
import re
from collections.abc import Sequence
from types import FunctionType

from .errors import ProcedureLoadError

_PUBLIC_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
_PACKAGE_PART = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class ProcedureLoader:
    """Finds ``(class, function)`` for a step's mod and method; caches what it finds.

    ``packages`` is a sequence of package names or one comma-separated string.
    """

    def __init__(self, packages: Sequence[str] | str) -> None:
        if isinstance(packages, str):
            packages = packages.split(",")
        self.packages = tuple(p.strip() for p in packages if p.strip())
        for root in self.packages:
            if not all(_PACKAGE_PART.match(part) for part in root.split(".")):
                raise ValueError(f"{root!r} is not a valid procedure package name")
        self._classes: dict[str, type] = {}
        self._methods: dict[tuple[str, str], tuple[type, FunctionType]] = {}

    def load(self, mod: str, method: str) -> tuple[type, FunctionType]:
        found = self._methods.get((mod, method))
        if found is None:
            cls = self.load_class(mod)
            found = self._methods[(mod, method)] = (cls, self._method(cls, mod, method))
        return found

    def load_class(self, mod: str) -> type:
        cls = self._classes.get(mod)
        if cls is None:
            cls = self._classes[mod] = self._find_class(mod)
        return cls

    def _allowed(self, module_name) -> bool:
        return isinstance(module_name, str) and any(
            module_name == root or module_name.startswith(root + ".") for root in self.packages
        )

    def _find_class(self, mod: str) -> type:
        def fail(code, message):
            return ProcedureLoadError(message, code=code, field="mod")

        parts = mod.split(".") if isinstance(mod, str) else [""]
        if not all(_PUBLIC_NAME.match(part) for part in parts):
            raise fail(
                "FORBIDDEN_PROCEDURE",
                f"mod {mod!r} is not allowed: it must be a dotted path of public names below the "
                f"procedure packages ({', '.join(self.packages)}), like 'common.Kt'",
            )
        for root in self.packages:
            name = f"{root}.{mod}"
            try:
                module = importlib.import_module(name)
            except ModuleNotFoundError as err:
                if err.name and (name == err.name or name.startswith(err.name + ".")):
                    continue
                raise fail(
                    "UNKNOWN_PROCEDURE",
                    f"module {name} cannot be imported: it imports {err.name!r}, which is not installed",
                ) from err
            except Exception as err:
                raise fail(
                    "UNKNOWN_PROCEDURE",
                    f"module {name} cannot be imported: {type(err).__name__}: {err}",
                ) from err
            cls = getattr(module, parts[-1], None)
            if cls is None:
                raise fail("UNKNOWN_PROCEDURE", f"module {name} has no class {parts[-1]}")
            if not isinstance(cls, type) or cls.__module__ != name or module.__name__ != name:
                raise fail(
                    "FORBIDDEN_PROCEDURE",
                    f"{name}.{parts[-1]} is not allowed: it must be a class defined in module {name}",
                )
            return cls
        if parts[0] not in {root.split(".")[0] for root in self.packages} and _top_level_exists(parts[0]):
            raise fail(
                "FORBIDDEN_PROCEDURE",
                f"mod {mod!r} is outside the procedure packages ({', '.join(self.packages)}); "
                "a flow can only use modules below them",
            )
        message = f"no module {mod} in the procedure packages ({', '.join(self.packages)})"
        for root in self.packages:
            if mod.startswith(root + "."):
                message += f"; mod is relative to them: write {mod[len(root) + 1 :]!r}"
        raise fail("UNKNOWN_PROCEDURE", message)

    def _method(self, cls: type, mod: str, method: str) -> FunctionType:
        def fail(code, message):
            return ProcedureLoadError(message, code=code, field="method")

        if not isinstance(method, str) or not _PUBLIC_NAME.match(method):
            raise fail(
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
            public = [n for c in cls.__mro__ if self._allowed(c.__module__) for n in vars(c) if n[0] != "_"]
            hint = difflib.get_close_matches(method, public, n=1)
            raise fail(
                "UNKNOWN_METHOD",
                f"{mod} has no method {method}" + (f"; did you mean {hint[0]}?" if hint else ""),
            )
        if not (
            isinstance(func, FunctionType)
            and self._allowed(owner.__module__)
            and self._allowed(func.__module__)
        ):
            raise fail(
                "FORBIDDEN_PROCEDURE",
                f"{mod}.{method} is not allowed: a method must be a plain function defined in a class "
                "of the procedure packages",
            )
        return func


def _top_level_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False
