"""Colours and icons taken from the system's palette, so light and dark both read well.

No widget hard-codes a colour: message colours are derived from the palette in use (a
red that is legible on the window's background, the palette's link colour for host
hints, its tooltip colours for a banner), and icons are SVGs from `resources/icons`,
which Qt renders sharp at any scale.
"""

from __future__ import annotations

from functools import cache

from PySide6.QtGui import QColor, QIcon, QPalette
from PySide6.QtWidgets import QApplication, QWidget

from hvmem.paths import resources_dir

# VM states (as Get-VM names them) that have an icon of their own.
_STATE_ICONS = {"Running": "vm-running", "Off": "vm-off", "Saved": "vm-saved",
                "Paused": "vm-paused"}


def is_dark(palette: QPalette | None = None) -> bool:
    """Whether the palette's window background is dark."""
    palette = palette or QApplication.palette()
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def message_color(kind: str, palette: QPalette | None = None) -> QColor:
    """The text colour for a message of `kind` (error, warning, note, host) on `palette`.

    Error and warning have no palette role; they are a red and an amber picked for the
    background's lightness, so they keep their contrast in a dark theme.
    """
    palette = palette or QApplication.palette()
    dark = is_dark(palette)
    if kind == "error":
        return QColor("#ff8a80") if dark else QColor("#b00020")
    if kind == "warning":
        return QColor("#ffcc66") if dark else QColor("#8a5300")
    if kind == "host":
        return palette.color(QPalette.ColorRole.Link)
    return palette.color(QPalette.ColorRole.PlaceholderText)


def message_style(kind: str, widget: QWidget | None = None) -> str:
    """A style sheet for a label showing a message of `kind` (or "banner")."""
    palette = widget.palette() if widget is not None else QApplication.palette()
    if kind == "banner":
        base = palette.color(QPalette.ColorRole.ToolTipBase).name()
        text = palette.color(QPalette.ColorRole.ToolTipText).name()
        edge = palette.color(QPalette.ColorRole.Mid).name()
        return (f"background: {base}; color: {text}; border: 1px solid {edge};"
                " padding: 6px;")
    return f"color: {message_color(kind, palette).name()};"


@cache
def icon(name: str) -> QIcon:
    """The icon `resources/icons/<name>.svg` (an empty icon when it is missing)."""
    path = resources_dir() / "icons" / f"{name}.svg"
    return QIcon(str(path)) if path.is_file() else QIcon()


def state_icon(state: str) -> QIcon:
    """The icon for a VM state; states without their own icon share a neutral one."""
    return icon(_STATE_ICONS.get(state, "vm-other"))
