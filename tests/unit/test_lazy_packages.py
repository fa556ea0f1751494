"""caseroom.lazy_packages: Powertools packages imported without their eager __init__, with
every name they re-export still importable and identical to the real one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from caseroom.lazy_packages import DEFERRED_PACKAGES, _reexports

REPO = Path(__file__).resolve().parents[2]

_DESCRIBE_EXPORTS = """
import importlib, json, sys
{prelude}
package = importlib.import_module({package!r})
names = getattr(package, "__all__", None) or []
def where(value):
    module = getattr(value, "__module__", None) or getattr(value, "__name__", None)
    return module, getattr(value, "__qualname__", None)
print(json.dumps({{name: where(getattr(package, name)) for name in names}}))
"""


def _run(code: str) -> str:
    environment = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{REPO / 'layers/caseroom/python'}"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.parametrize("package", DEFERRED_PACKAGES)
def test_every_reexported_name_resolves_to_the_real_object(package: str) -> None:
    real = json.loads(_run(_DESCRIBE_EXPORTS.format(prelude="", package=package)))
    deferred = json.loads(
        _run(
            _DESCRIBE_EXPORTS.format(
                prelude="from caseroom.lazy_packages import defer_known_packages; defer_known_packages()",
                package=package,
            )
        )
    )
    assert real  # the real package declares what it re-exports
    assert deferred == real


def test_an_http_function_imports_neither_asyncio_nor_every_event_class() -> None:
    out = _run(
        "import sys, functions.cases_api.handler\n"
        "print(sorted(m for m in ('asyncio', 'aws_lambda_powertools.event_handler.appsync',"
        " 'aws_lambda_powertools.utilities.data_classes.code_pipeline_job_event') if m in sys.modules))"
    )
    assert out.strip() == "[]"


def test_a_submodule_import_does_not_hide_the_name_the_package_reexports() -> None:
    # data_classes re-exports the decorator `event_source` from its submodule `event_source`
    out = _run(
        "import caseroom, types\n"
        "import aws_lambda_powertools.utilities.data_classes.event_source\n"
        "from aws_lambda_powertools.utilities.data_classes import event_source\n"
        "print(type(event_source).__name__, callable(event_source))"
    )
    assert out.strip() == "function True"


def test_reexports_reads_absolute_and_relative_imports() -> None:
    source = (
        "from a.b.api import Resolver, Response as Reply\n"
        "from .events import S3Event\n"
        "from . import content_types\n"
        "from ..shared import helper\n"
        "__all__ = ['Resolver', 'S3Event']\n"
    )
    assert _reexports("a.b", source) == (
        {
            "Resolver": ("a.b.api", "Resolver"),
            "Reply": ("a.b.api", "Response"),
            "S3Event": ("a.b.events", "S3Event"),
            "content_types": ("a.b.content_types", None),
            "helper": ("a.shared", "helper"),
        },
        ["Resolver", "S3Event"],
    )


@pytest.mark.parametrize(
    "source",
    [
        "from .api import Resolver\n__all__ = ['Resolver', 'Built']\nBuilt = object()\n",  # not an import
        "from a.b import api\n",  # imports from itself
        '"""Doc."""\nfrom .api import Resolver\nimport logging\n',  # a plain import runs code
        "from .api import Resolver\nRESOLVER = Resolver()\n",  # builds something on import
        "from .api import Resolver\nregister(Resolver)\n",  # a call
        "from .api import Resolver\nif True:\n    from .b import C\n",  # conditional
        "from .api import Resolver\n__all__ = sorted(['Resolver'])\n",  # computed __all__
    ],
)
def test_an_init_that_is_more_than_reexports_is_not_deferred(source: str) -> None:
    assert _reexports("a.b", source) is None


def test_a_docstring_future_import_and_literal_all_are_still_only_reexports() -> None:
    source = (
        '"""Doc."""\nfrom __future__ import annotations\nfrom .api import Resolver\n__all__ = ["Resolver"]\n'
    )
    assert _reexports("a.b", source) == ({"Resolver": ("a.b.api", "Resolver")}, ["Resolver"])


@pytest.mark.parametrize(
    "package", ["aws_lambda_powertools.event_handler", "aws_lambda_powertools.utilities.data_classes"]
)
def test_the_pinned_powertools_inits_are_only_reexports(package: str) -> None:
    """The assumption, proved for the pinned version: if an upgrade adds work to one of these
    __init__s, this fails and (at run time) the package simply imports the normal way."""
    import importlib.util

    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.loader is not None
    assert _reexports(package, spec.loader.get_source(package)) is not None  # type: ignore[attr-defined]


def test_a_package_that_is_already_imported_or_missing_is_left_alone() -> None:
    from caseroom.lazy_packages import defer_package_init

    assert defer_package_init("json") is False  # imported already
    assert defer_package_init("caseroom_no_such_package") is False
