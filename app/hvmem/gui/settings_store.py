"""What the window remembers between runs: geometry, columns, refresh interval, pause.

Everything lives in one INI file read through QSettings, `gui.ini` in hvmem's config
folder. The folder can be moved with the environment variable `HVMEM_CONFIG_DIR` (tests
point it at a temporary folder, so they never touch the user's settings) or by passing
a path. Nothing secret is ever stored here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

from hvmem.paths import config_dir
INTERVAL_CHOICES_MS = (1000, 2000, 5000, 10_000, 30_000)
# Hyper-V Manager's own columns plus Memory Demand and Memory Status show by default;
# these two hvmem adds are one click away in the column chooser.
DEFAULT_HIDDEN_COLUMNS = ("Startup Memory", "Dynamic Memory")
DEFAULT_INTERVAL_MS = 2000


def settings_path(folder: Path | None = None) -> Path:
    """The INI file: in `folder`, else in $HVMEM_CONFIG_DIR, else in the config folder."""
    return (folder or config_dir()) / "gui.ini"


class GuiSettings:
    """Typed access to the window's remembered settings."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or settings_path()
        self._store = QSettings(str(self.path), QSettings.Format.IniFormat)

    def _bytes(self, key: str) -> QByteArray | None:
        value = self._store.value(key)
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    @property
    def geometry(self) -> QByteArray | None:
        return self._bytes("window/geometry")

    @property
    def splitters(self) -> dict[str, QByteArray]:
        """Saved splitter states by splitter name."""
        self._store.beginGroup("splitters")
        try:
            names = self._store.childKeys()
        finally:
            self._store.endGroup()
        found = {name: self._bytes(f"splitters/{name}") for name in names}
        return {name: state for name, state in found.items() if state is not None}

    def save_window(self, geometry: QByteArray, splitters: dict[str, QByteArray]) -> None:
        self._store.setValue("window/geometry", geometry)
        for name, state in splitters.items():
            self._store.setValue(f"splitters/{name}", state)

    @property
    def hidden_columns(self) -> list[str]:
        """Titles of the VM table's hidden columns."""
        if not self._store.contains("table/hidden_columns"):
            return list(DEFAULT_HIDDEN_COLUMNS)
        value: Any = self._store.value("table/hidden_columns", [])
        if isinstance(value, str):  # QSettings gives a lone item back as a string
            value = [value] if value else []
        return [str(title) for title in value or []]

    @hidden_columns.setter
    def hidden_columns(self, titles: list[str]) -> None:
        self._store.setValue("table/hidden_columns", list(titles))

    @property
    def column_widths(self) -> dict[str, int]:
        """The VM table's column widths the user left, by column title."""
        self._store.beginGroup("column_widths")
        try:
            found = {title: self._store.value(title) for title in self._store.childKeys()}
        finally:
            self._store.endGroup()
        widths = {}
        for title, value in found.items():
            try:
                widths[title] = int(str(value))
            except ValueError:
                continue  # a hand-edited file: that column gets its fitted width
        return widths

    @column_widths.setter
    def column_widths(self, widths: dict[str, int]) -> None:
        # Merged: a column hidden now keeps the width it had when it was last shown.
        for title, width in widths.items():
            self._store.setValue(f"column_widths/{title}", int(width))

    @property
    def interval_ms(self) -> int:
        """The refresh interval; an unknown stored value falls back to the default."""
        try:
            stored: Any = self._store.value("refresh/interval_ms", DEFAULT_INTERVAL_MS)
            value = int(stored)
        except (TypeError, ValueError):
            return DEFAULT_INTERVAL_MS
        return value if value in INTERVAL_CHOICES_MS else DEFAULT_INTERVAL_MS

    @interval_ms.setter
    def interval_ms(self, value: int) -> None:
        self._store.setValue("refresh/interval_ms", int(value))

    @property
    def paused(self) -> bool:
        return str(self._store.value("refresh/paused", "false")).lower() == "true"

    @paused.setter
    def paused(self, value: bool) -> None:
        self._store.setValue("refresh/paused", bool(value))

    def sync(self) -> None:
        """Write to disk now (QSettings otherwise writes when it sees fit)."""
        self._store.sync()
