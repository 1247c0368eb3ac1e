"""The status bar's picture of a host's memory: held by VMs, kept by the host, available.

`host_memory_figures` works the three parts out from an inventory (the VMs' assigned
memory, the rest of what is not available, and what is available); `HostMemoryBar`
paints them as one bar in the palette's colours, with the figures beside it and in its
tooltip.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QWidget

from hvmem.model import Inventory
from hvmem.units import format_mb


@dataclass(frozen=True)
class HostMemoryFigures:
    """A host's memory in MB, split three ways."""

    total_mb: int
    vms_mb: int
    host_mb: int
    available_mb: int

    def text(self) -> str:
        return (f"Host memory: {format_mb(self.total_mb)} total, "
                f"{format_mb(self.vms_mb)} held by VMs, "
                f"{format_mb(self.available_mb)} available")


def host_memory_figures(inventory: Inventory) -> HostMemoryFigures:
    """Split the host's memory: VMs' assigned memory, the host's own, what is free."""
    host = inventory.host
    vms = sum(vm.assigned_mb for vm in inventory.vms)
    held = host.held_by_vms_mb  # everything that is not available
    vms = min(vms, held)
    return HostMemoryFigures(host.total_mb, vms, held - vms, host.available_mb)


class _Bar(QWidget):
    """The painted bar itself."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.figures: HostMemoryFigures | None = None
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:
        return QSize(160, max(self.fontMetrics().height() - 2, 10))

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        palette = self.palette()
        frame = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        painter.fillRect(frame, palette.color(QPalette.ColorRole.Base))
        figures = self.figures
        if figures is not None and figures.total_mb > 0:
            x = frame.left()
            for mb, role in ((figures.vms_mb, QPalette.ColorRole.Highlight),
                             (figures.host_mb, QPalette.ColorRole.Mid)):
                width = frame.width() * mb / figures.total_mb
                painter.fillRect(QRectF(x, frame.top(), width, frame.height()),
                                 palette.color(role))
                x += width
        painter.setPen(QPen(palette.color(QPalette.ColorRole.Dark), 1))
        painter.drawRect(frame)
        painter.end()


class HostMemoryBar(QWidget):
    """A bar and a line of text for the current host's memory."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bar = _Bar()
        self.label = QLabel()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.bar, 0, Qt.AlignmentFlag.AlignVCenter)
        layout.addWidget(self.label)
        self.show_inventory(None)

    def show_inventory(self, inventory: Inventory | None) -> None:
        """Show the host of `inventory`, or nothing when there is none yet."""
        figures = host_memory_figures(inventory) if inventory is not None else None
        self.bar.figures = figures
        self.bar.setVisible(figures is not None)
        self.label.setText(figures.text() if figures is not None else "")
        if figures is not None:
            self.setToolTip(
                f"Held by VMs: {format_mb(figures.vms_mb)}\n"
                f"Kept by the host itself: {format_mb(figures.host_mb)}\n"
                f"Available: {format_mb(figures.available_mb)}\n"
                f"Total: {format_mb(figures.total_mb)}")
        self.bar.update()

    def text(self) -> str:
        return self.label.text()
