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
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import sys
from types import ModuleType

DEFERRED_PACKAGES = (
    "aws_lambda_powertools.event_handler",
    "aws_lambda_powertools.utilities.data_classes",
)


def _reexports(package: str, init_source: str) -> dict[str, tuple[str, str | None]]:
    """public name -> (module, attribute of it, or None for the module itself), from the
    `from ... import ...` lines of the real `__init__`."""
    found: dict[str, tuple[str, str | None]] = {}
    for node in ast.parse(init_source).body:
        if not isinstance(node, ast.ImportFrom):
            continue
        base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
        for alias in node.names:
            public = alias.asname or alias.name
            if node.level and not node.module:  # `from . import x`: the submodule x
                found[public] = (f"{base}.{alias.name}", None)
            else:
                module = f"{base}.{node.module}" if node.level else str(node.module)
                found[public] = (module, alias.name)
    return found


def defer_package_init(package: str) -> None:
    """Registers `package` without executing its `__init__` (no-op if it is already imported)."""
    if package in sys.modules:
        return
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None or spec.submodule_search_locations is None:
        return  # not installed or not a package: nothing to defer
    with open(spec.origin, encoding="utf-8") as init_file:
        reexports = _reexports(package, init_file.read())
    bare = importlib.util.module_from_spec(spec)

    def resolve(name: str) -> object:
        if name not in reexports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, attribute = reexports[name]
        imported = importlib.import_module(module)
        value = imported if attribute is None else getattr(imported, attribute)
        setattr(bare, name, value)
        return value

    vars(bare).update(__getattr__=resolve, __all__=sorted(reexports))
    sys.modules[package] = bare
    parent_name, _, child = package.rpartition(".")
    parent: ModuleType | None = sys.modules.get(parent_name)
    if parent is not None:
        setattr(parent, child, bare)


def defer_known_packages() -> None:
    for package in DEFERRED_PACKAGES:
        defer_package_init(package)
