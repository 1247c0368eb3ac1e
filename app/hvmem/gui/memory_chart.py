"""The live memory chart: a VM's assigned memory and demand over the last minutes.

`MemoryHistory` keeps, per VM Id, the figures of each inventory with the time they came
(a bounded window, so a long session does not grow). `MemoryChart` paints one VM's
history with QPainter in the palette's colours: assigned memory as a filled area in the
highlight colour, demand as a line in the text colour. It is vector painting, so it is
sharp at any scale, and it needs no chart library.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from hvmem.model import Inventory

WINDOW_S = 300.0  # the chart shows the last five minutes
_MAX_SAMPLES = 600  # 20 minutes at the fastest refresh: plenty for the window above


@dataclass(frozen=True)
class Sample:
    """One reading of one VM."""

    at: float
    assigned_mb: int
    demand_mb: int


class MemoryHistory:
    """Recent assigned and demand figures per VM, fed by each inventory."""

    def __init__(self) -> None:
        self._samples: dict[str, deque[Sample]] = {}

    def record(self, inventory: Inventory, at: float) -> None:
        """Add every VM's figures at time `at` (seconds); forget VMs that are gone."""
        present = set()
        for vm in inventory.vms:
            present.add(vm.id)
            samples = self._samples.setdefault(vm.id, deque(maxlen=_MAX_SAMPLES))
            samples.append(Sample(at, vm.assigned_mb, vm.demand_mb))
        for vm_id in set(self._samples) - present:
            del self._samples[vm_id]

    def samples(self, vm_id: str) -> list[Sample]:
        return list(self._samples.get(vm_id, ()))


def _nice_top(value: int) -> int:
    """A round upper bound for the axis (1, 2 or 5 times a power of ten, in MB)."""
    top = max(value, 64)
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= top:
                return step * factor
        step *= 10


class MemoryChart(QWidget):
    """Paints one VM's assigned memory and demand over the last `WINDOW_S` seconds."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.samples: list[Sample] = []
        self.now = 0.0
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAccessibleName("Memory over the last five minutes")

    def sizeHint(self) -> QSize:
        return QSize(360, 180)

    def show_samples(self, samples: list[Sample], now: float) -> None:
        """Show `samples`, with `now` at the right edge."""
        self.samples = samples
        self.now = now
        self.update()

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.Base))
        metrics = self.fontMetrics()
        top_mb = _nice_top(max((max(s.assigned_mb, s.demand_mb) for s in self.samples),
                               default=0))
        label_width = metrics.horizontalAdvance(f"{top_mb} MB") + 8
        legend_height = metrics.height() + 6
        plot = QRectF(label_width, legend_height + 4, self.width() - label_width - 8,
                      self.height() - legend_height - metrics.height() - 12)
        if plot.width() < 20 or plot.height() < 20:
            return

        self._paint_grid(painter, plot, top_mb)
        self._paint_series(painter, plot, top_mb)
        self._paint_legend(painter)
        painter.end()

    def _paint_grid(self, painter: QPainter, plot: QRectF, top_mb: int) -> None:
        palette = self.palette()
        text = palette.color(QPalette.ColorRole.PlaceholderText)
        grid = QPen(palette.color(QPalette.ColorRole.Mid), 1, Qt.PenStyle.DotLine)
        height = self.fontMetrics().height()
        for share in (0.0, 0.5, 1.0):
            y = plot.bottom() - share * plot.height()
            painter.setPen(grid)
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            painter.setPen(text)
            painter.drawText(QRectF(0, y - height / 2, plot.left() - 6, height),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                             f"{int(top_mb * share)} MB")
        for label, align in (("5 min ago", Qt.AlignmentFlag.AlignLeft),
                             ("now", Qt.AlignmentFlag.AlignRight)):
            painter.drawText(QRectF(plot.left(), plot.bottom() + 4, plot.width(), height),
                             align, label)

    def _point(self, plot: QRectF, top_mb: int, at: float, mb: int) -> QPointF:
        age = min(max(self.now - at, 0.0), WINDOW_S)
        x = plot.right() - age / WINDOW_S * plot.width()
        return QPointF(x, plot.bottom() - mb / top_mb * plot.height())

    def _paint_series(self, painter: QPainter, plot: QRectF, top_mb: int) -> None:
        shown = [s for s in self.samples if self.now - s.at <= WINDOW_S]
        if not shown:
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(plot, Qt.AlignmentFlag.AlignCenter, "No figures yet")
            return

        highlight = self.palette().color(QPalette.ColorRole.Highlight)
        assigned = [self._point(plot, top_mb, s.at, s.assigned_mb) for s in shown]
        area = QPainterPath(QPointF(assigned[0].x(), plot.bottom()))
        for point in assigned:
            area.lineTo(point)
        area.lineTo(QPointF(assigned[-1].x(), plot.bottom()))
        fill = QColor(highlight)
        fill.setAlpha(70)
        painter.fillPath(area, fill)
        painter.setPen(QPen(highlight, 2))
        painter.drawPolyline(assigned)

        demand = [self._point(plot, top_mb, s.at, s.demand_mb) for s in shown]
        text = self.palette().color(QPalette.ColorRole.Text)
        painter.setPen(QPen(text, 1.5, Qt.PenStyle.DashLine))
        painter.drawPolyline(demand)

    def _paint_legend(self, painter: QPainter) -> None:
        palette = self.palette()
        metrics = self.fontMetrics()
        x = 8.0
        entries = ((palette.color(QPalette.ColorRole.Highlight), Qt.PenStyle.SolidLine,
                    "Assigned"),
                   (palette.color(QPalette.ColorRole.Text), Qt.PenStyle.DashLine,
                    "Demand"))
        y = metrics.height() / 2 + 3
        for color, style, label in entries:
            painter.setPen(QPen(color, 2, style))
            painter.drawLine(QPointF(x, y), QPointF(x + 18, y))
            painter.setPen(palette.color(QPalette.ColorRole.Text))
            painter.drawText(QPointF(x + 22, y + metrics.ascent() / 2 - 1), label)
            x += 22 + metrics.horizontalAdvance(label) + 16
