"""The shape of the code stays as docs/architecture.md tells it: layers, no import circle,
small modules."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
MAX_MODULE_LINES = 420  # "about 400": a module that grows past it is split by what it does


def test_every_layer_contract_is_kept():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "broken" not in result.stdout.lower().replace("0 broken", "")


def test_no_import_circle_between_modules():
    graph = grimp.build_graph("portail", "forms", include_external_packages=False)
    circles = []
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            if imported != module and graph.chain_exists(importer=imported, imported=module):
                circles.append(f"{module} <-> {imported}")
    assert circles == []


def test_no_module_is_a_maze():
    long = {}
    for path in [
        *(ROOT / "portail").rglob("*.py"),
        *(ROOT / "forms").rglob("*.py"),
        ROOT / "app.py",
    ]:
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_MODULE_LINES:
            long[str(path.relative_to(ROOT))] = lines
    assert long == {}
