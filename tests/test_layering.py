"""Imports flow one way: the golden model depends on NumPy alone and the engine's components on
Amaranth alone, so that the oracle never learns from the RTL and the RTL never from the flows
above it (README, "Layout")."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest


ROOT = Path(__file__).resolve().parent.parent

#: Folder -> the top-level modules outside the standard library that its files may import; of
#: the project, each imports only its own package (absolutely or relatively).
ALLOWED = {
    "golden": {"numpy"},
    "hdl":    {"amaranth"},
    "sweep":  {"distributed", "dask"},
}


def imported_modules(path):
    """Absolute names of the modules that one file imports (relative imports resolved inside
    ``apsq_rae.<folder>``)."""
    package = "apsq_rae." + path.relative_to(ROOT).parts[0]
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add(package if node.level else node.module)
    return names


def test_imported_modules_resolves_relative_imports(tmp_path, monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    (tmp_path / "hdl").mkdir()
    source = tmp_path / "hdl" / "x.py"
    source.write_text("import os.path\nfrom .params import P\nfrom apsq_rae.tb import sim\n")
    assert imported_modules(source) == {"os.path", "apsq_rae.hdl", "apsq_rae.tb"}


@pytest.mark.parametrize("folder", sorted(ALLOWED))
def test_folder_imports_only_what_its_layer_allows(folder):
    external = ALLOWED[folder]
    own = "apsq_rae." + folder
    wrong = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        for name in imported_modules(path):
            top = name.split(".")[0]
            if top in sys.stdlib_module_names or top in external:
                continue
            if name == own or name.startswith(own + "."):
                continue
            wrong.append(f"{path.relative_to(ROOT)}: {name}")
    assert wrong == [], f"{folder}/ may import the standard library, {sorted(external)} and itself"


def test_no_file_refers_outside_the_repository():
    """The project's documents are its own: no tracked file points at a path above it."""
    outside = "../" + "shared"
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split()
    assert len(files) > 100
    hits = []
    for name in files:
        try:
            text = (ROOT / name).read_text()
        except (UnicodeDecodeError, FileNotFoundError):
            continue
        if outside in text:
            hits.append(name)
    assert hits == []
