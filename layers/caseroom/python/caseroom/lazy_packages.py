"""Import a third-party package's submodules without running its eager `__init__`.

Two Powertools packages re-export every class they hold from `__init__`, so importing the one
submodule an HTTP function needs runs them all: `aws_lambda_powertools.event_handler` pulls in
the AppSync resolvers and with them `asyncio`; `utilities.data_classes` imports some forty event
classes (CodePipeline's brings `tempfile` and `zipfile`). That is about 20 ms of every HTTP
function's cold start, measured by `python -m bench cold-start`.

`defer_package_init(name)` registers the package as a bare module whose `__path__` still finds
its submodules; a name the real `__init__` re-exports (`from .x import Y`) is imported from its
submodule the first time something asks for it (PEP 562 module `__getattr__`). Code that does
`from aws_lambda_powertools.event_handler import Response` therefore still works, unchanged.
If the real `__init__` is anything but a docstring, such imports and a literal `__all__` (no
source, any other statement, a name in `__all__` that no import line provides), the package is
left alone and imports the normal way: a Powertools upgrade that adds work to one of these
`__init__`s turns the deferral off rather than skipping that work.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import sys
from types import ModuleType
from typing import Any

DEFERRED_PACKAGES = (
    "aws_lambda_powertools.event_handler",
    "aws_lambda_powertools.utilities.data_classes",
)

Reexports = dict[str, tuple[str, str | None]]  # name -> (module, attribute of it | None: the module)


def _reexports(package: str, init_source: str) -> tuple[Reexports, list[str]] | None:
    """What the real `__init__` re-exports, from its `from ... import ...` lines, and its
    `__all__`; None when it does anything this cannot follow (its `__all__` names something no
    import line provides, or it imports from itself)."""
    found: Reexports = {}
    declared: list[str] | None = None
    for node in ast.parse(init_source).body:
        if _is_docstring(node):
            continue
        if isinstance(node, ast.Assign) and [getattr(t, "id", "") for t in node.targets] == ["__all__"]:
            try:
                declared = list(ast.literal_eval(node.value))
            except ValueError:
                return None  # an __all__ computed at import: only running it can tell
            continue
        if not isinstance(node, ast.ImportFrom) or node.module == "__future__":
            if isinstance(node, ast.ImportFrom):
                continue
            # Anything else (a call, an assignment, a plain `import`, a def, an if) is work
            # the real __init__ does on import: the package is not deferred.
            return None
        base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
        for alias in node.names:
            public = alias.asname or alias.name
            if node.level and not node.module:  # `from . import x`: the submodule x
                found[public] = (f"{base}.{alias.name}", None)
            else:
                module = f"{base}.{node.module}" if node.level else str(node.module)
                if module == package:
                    return None  # imports from itself: only running it can tell
                found[public] = (module, alias.name)
    if declared is None:
        declared = sorted(found)
    if not set(declared) <= set(found):
        return None
    return found, declared


def _is_docstring(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


class _DeferredPackage(ModuleType):
    """A package module whose re-exported names resolve on first use."""

    _caseroom_reexports: Reexports

    def __getattr__(self, name: str) -> Any:
        reexports = vars(self).get("_caseroom_reexports", {})
        if name not in reexports:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        module, attribute = reexports[name]
        imported = importlib.import_module(module)
        value = imported if attribute is None else getattr(imported, attribute)
        super().__setattr__(name, value)
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        # Importing a submodule binds it on its package: `data_classes.event_source` the module
        # would then hide `event_source` the decorator. The real __init__ rebinds the
        # re-export after that import, so the package keeps the re-export here too.
        reexport = vars(self).get("_caseroom_reexports", {}).get(name)
        binding_submodule = isinstance(value, ModuleType) and value.__name__ == f"{self.__name__}.{name}"
        if binding_submodule and reexport and reexport[1] is not None:
            value = getattr(importlib.import_module(reexport[0]), reexport[1])
        super().__setattr__(name, value)


def defer_package_init(package: str) -> bool:
    """Registers `package` without executing its `__init__`. False (and nothing changed) when it
    is already imported, not installed, or its `__init__` is more than re-exports."""
    if package in sys.modules:
        return False
    spec = importlib.util.find_spec(package)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return False
    try:
        source = spec.loader.get_source(package)  # type: ignore[attr-defined]
        parsed = _reexports(package, source) if source else None
    except (ImportError, OSError, SyntaxError, UnicodeDecodeError, ValueError):
        parsed = None
    if parsed is None:
        return False
    reexports, public = parsed
    bare = importlib.util.module_from_spec(spec)
    vars(bare)["_caseroom_reexports"] = reexports
    vars(bare)["__all__"] = public
    bare.__class__ = _DeferredPackage
    sys.modules[package] = bare
    parent_name, _, child = package.rpartition(".")
    parent = sys.modules.get(parent_name)
    if parent is not None:
        setattr(parent, child, bare)
    return True


def defer_known_packages() -> None:
    for package in DEFERRED_PACKAGES:
        defer_package_init(package)
