"""Where hvmem finds its resources and keeps its files."""

from __future__ import annotations

from pathlib import Path

import platformdirs

_HERE = Path(__file__).resolve().parent


def resources_dir() -> Path:
    """`resources/` beside `app/` in a checkout, or the copy inside an installed wheel."""
    checkout = _HERE.parent.parent / "resources"
    return checkout if checkout.is_dir() else _HERE / "resources"


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir("hvmem", appauthor=False))


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir("hvmem", appauthor=False))


def log_dir() -> Path:
    return Path(platformdirs.user_log_dir("hvmem", appauthor=False))
