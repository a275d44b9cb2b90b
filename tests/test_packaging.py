"""The installed project: one top-level package, apsq_rae, and one command, apsq-rae."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    # Built from a copy: setuptools writes build/ and *.egg-info beside the sources.
    source = tmp_path_factory.mktemp("source") / "apsq-rae"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "sim_build", "__pycache__", "*.egg-info", ".pytest_cache",
        ".hypothesis"))
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out), str(source)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    wheels = list(out.glob("apsq_rae-*.whl"))
    assert len(wheels) == 1, wheels
    return zipfile.ZipFile(wheels[0])


def test_wheel_has_one_top_level_package(wheel):
    names = wheel.namelist()
    top = {name.split("/")[0] for name in names}
    info = {t for t in top if t.endswith(".dist-info")}
    assert top - info == {"apsq_rae"}
    packages = {name.split("/")[1] for name in names
                if name.startswith("apsq_rae/") and name.count("/") == 2}
    assert packages == {"golden", "hdl", "gen", "area", "fpga", "explore", "tb", "formal", "mutate",
                        "sweep"}
    assert "apsq_rae/area/cells/ge45.lib" in names
    assert not [n for n in names if "/test_" in n or n.startswith("apsq_rae/tests")]


def test_wheel_declares_one_command(wheel):
    info = next(n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt"))
    text = wheel.read(info).decode()
    assert "[console_scripts]" in text
    scripts = [l for l in text.splitlines() if "=" in l]
    assert scripts == ["apsq-rae = apsq_rae.cli:main"]
