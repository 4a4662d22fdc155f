"""The shape of the code base, checked on every `make test` (docs/architecture.md).

- The apps form layers with no cycles and the engines import no domain app: import-linter's
  contracts in pyproject.toml, imports inside functions included.
- HTTP views read through selectors and write through services: no `.objects` in an api.py.
- The websocket messages Python sends and the ones the browser knows are one list.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from realtime import messages

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
# The packages the contracts cover, as pyproject.toml lists them.
PACKAGES = tuple(
    tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["root_packages"]
)


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", str(cwd / "pyproject.toml")],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_it_keeps_the_import_contracts() -> None:
    result = lint_imports(ROOT)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "added_import", "contract"),
    [
        # An engine reaching into a domain app, from inside a function.
        (
            "processing/engine.py",
            "def _peek():\n    from clips.models import Clip\n",
            "The engines (processing, realtime) import no domain app",
        ),
        # A cycle between two domain apps: projects is below clips.
        ("projects/services.py", "import clips.models\n", "Apps form layers with no cycles"),
    ],
)
def test_it_fails_on_an_import_that_breaks_the_layers(
    tmp_path: Path, module: str, added_import: str, contract: str
) -> None:
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    with open(tmp_path / module, "a") as handle:
        handle.write(f"\n\n{added_import}")

    result = lint_imports(tmp_path)

    assert result.returncode != 0
    assert f"{contract} BROKEN" in result.stdout


def test_no_api_module_queries_the_database_itself() -> None:
    offenders = []
    for path in sorted(ROOT.glob("*/api.py")) + sorted(ROOT.glob("*/*_api.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr == "objects":
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")

    assert not offenders, f"views use selectors and services, not managers: {offenders}"


def test_python_and_the_browser_know_the_same_socket_messages() -> None:
    script = (ROOT / "static/js/messages.js").read_text()

    in_javascript = set(re.findall(r':\s*"([a-z]+(?::[a-z]+)?)"', script))

    assert in_javascript == set(messages.MESSAGE_TYPES)
