"""Where the repository lives, so `caseroom-local` works from any working directory."""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
# The shared domain package ships as a Lambda layer; locally it is imported from the layer folder.
LAYER_PYTHON_DIR = REPO_ROOT / "layers" / "caseroom" / "python"


def ensure_import_paths() -> None:
    """Make `functions`, `infra` and `caseroom` importable, as they are on Lambda."""
    for path in (str(LAYER_PYTHON_DIR), str(REPO_ROOT)):
        if path not in sys.path:
            sys.path.insert(0, path)
