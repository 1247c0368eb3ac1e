"""The wall: nothing outside hvmem.gui imports Qt."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app" / "hvmem"

# Imports every non-GUI module, then says which Qt modules got loaded.
PROBE = """
import importlib, pkgutil, sys
import hvmem
names = []
for info in pkgutil.walk_packages(hvmem.__path__, "hvmem."):
    if info.name == "hvmem.gui" or info.name.startswith("hvmem.gui."):
        continue
    if info.name == "hvmem.__main__":
        continue
    importlib.import_module(info.name)
    names.append(info.name)
from hvmem import cli
cli.build_parser()
qt = sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "shiboken6"))
print("imported:", " ".join(names))
print("qt:", " ".join(qt))
"""


def test_non_gui_modules_do_not_load_qt() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                          timeout=120, check=False)

    assert done.returncode == 0, done.stderr
    lines = dict(line.split(":", 1) for line in done.stdout.splitlines() if ":" in line)
    imported = lines["imported"].split()
    assert {"hvmem.cli", "hvmem.controller", "hvmem.hyperv.client",
            "hvmem.sim.demo"} <= set(imported)
    assert lines["qt"].split() == []


def test_no_qt_import_in_non_gui_source() -> None:
    offenders = [
        str(path.relative_to(APP))
        for path in APP.rglob("*.py")
        if "gui" not in path.relative_to(APP).parts
        and any(word in path.read_text(encoding="utf-8")
                for word in ("import PySide6", "from PySide6", "import shiboken6"))
    ]

    assert offenders == []
