"""Project code uses only the public API of its dependencies.

An internal module of a library can change in any release without a changelog entry (it did:
allauth's JWT `internal` module changed its return type in a patch release and broke every
authenticated request). Imports anywhere in the project, inside functions too, are checked.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SKIP_DIRS = {".venv", ".tools", "var", "node_modules", ".git", "migrations"}
PROJECT_PACKAGES = {p.parent.name for p in ROOT.glob("*/__init__.py")} | {"manage"}
PRIVATE_MODULE_NAMES = {"internal", "_internal", "compat_internal"}


def _project_files() -> list[Path]:
    return [
        path
        for path in ROOT.rglob("*.py")
        if not SKIP_DIRS.intersection(path.relative_to(ROOT).parts)
    ]


def _is_private(part: str) -> bool:
    return part in PRIVATE_MODULE_NAMES or (part.startswith("_") and not part.startswith("__"))


def _third_party(module: str) -> bool:
    top = module.split(".")[0]
    return bool(top) and top not in PROJECT_PACKAGES and top not in sys.stdlib_module_names


def private_imports(source: str) -> list[str]:
    """Every `import`/`from … import` of a third-party package's private module or name."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _third_party(alias.name) and any(map(_is_private, alias.name.split("."))):
                    found.append(alias.name)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if not _third_party(node.module):
                continue
            names = [f"{node.module}.{alias.name}" for alias in node.names]
            for name in names:
                if any(map(_is_private, name.split("."))):
                    found.append(name)
    return found


def test_the_check_finds_what_broke_us_before() -> None:
    source = (
        "from allauth.headless.tokens.strategies.jwt import internal\n"
        "def f():\n"
        "    from allauth.headless.tokens.strategies.jwt.internal import validate_access_token\n"
        "    import storages._private\n"
        "    from storages.utils import _hidden\n"
    )
    assert private_imports(source) == [
        "allauth.headless.tokens.strategies.jwt.internal",
        "allauth.headless.tokens.strategies.jwt.internal.validate_access_token",
        "storages._private",
        "storages.utils._hidden",
    ]
    assert private_imports("from __future__ import annotations\nimport os._x\n") == []


@pytest.mark.parametrize("path", _project_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_private_module_of_a_dependency_is_imported(path: Path) -> None:
    assert private_imports(path.read_text()) == []
