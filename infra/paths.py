"""Absolute paths, so the app synthesizes the same from the repo root, tests or an IDE."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = REPO_ROOT / "functions"
SHARED_LAYER_DIR = REPO_ROOT / "layers" / "caseroom"
SHARED_PACKAGE_ROOT = SHARED_LAYER_DIR / "python"  # where `import caseroom` resolves
