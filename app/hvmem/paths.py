"""Where hvmem finds its resources and keeps its files."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

# Tests (and people who keep several set-ups apart) move hvmem's folders with these.
CONFIG_DIR_ENV = "HVMEM_CONFIG_DIR"
LOG_DIR_ENV = "HVMEM_LOG_DIR"

_HERE = Path(__file__).resolve().parent


def resources_dir() -> Path:
    """`resources/` beside `app/` in a checkout, or the copy inside an installed wheel."""
    checkout = _HERE.parent.parent / "resources"
    return checkout if checkout.is_dir() else _HERE / "resources"


def config_dir() -> Path:
    """hvmem's settings folder: $HVMEM_CONFIG_DIR, else the user's config folder."""
    override = os.environ.get(CONFIG_DIR_ENV)
    return Path(override) if override else Path(
        platformdirs.user_config_dir("hvmem", appauthor=False))


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir("hvmem", appauthor=False))


def log_dir() -> Path:
    """hvmem's log folder: $HVMEM_LOG_DIR, else the user's log folder."""
    override = os.environ.get(LOG_DIR_ENV)
    return Path(override) if override else Path(
        platformdirs.user_log_dir("hvmem", appauthor=False))
