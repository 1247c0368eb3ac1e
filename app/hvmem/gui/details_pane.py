"""The pane under the VM list: the selected VM's memory figures, as Hyper-V Manager shows.

It has a Memory tab (startup, Dynamic Memory, minimum, maximum, assigned, demand, status,
buffer, weight, and a live chart of assigned memory and demand over the last minutes) and
a Summary tab; under the VM's name, a note says whether it would fit if started now.
It is read-only and simply redraws from each snapshot.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from hvmem.gui.memory_chart import MemoryChart, Sample
from hvmem.gui.theme import message_style
from hvmem.gui.vm_table import format_uptime, live_text
from hvmem.model import VmSnapshot
from hvmem.units import format_mb

MEMORY_ROWS = (
    ("startup", "Startup Memory:"),
    ("dynamic", "Dynamic Memory:"),
    ("minimum", "Minimum Memory:"),
    ("maximum", "Maximum Memory:"),
    ("assigned", "Assigned Memory:"),
    ("demand", "Memory Demand:"),
    ("status", "Memory Status:"),
    ("buffer", "Memory Buffer:"),
    ("weight", "Memory Weight:"),
)
SUMMARY_ROWS = (
    ("state", "State:"),
    ("generation", "Generation:"),
    ("version", "Configuration Version:"),
    ("uptime", "Uptime:"),
    ("cpu", "CPU Usage:"),
    ("vm_status", "Status:"),
)


# What a figure reads when there is none: a DM-only setting of a static VM, or the live
# figures of a VM that holds no memory.
NONE_TEXT = "—"


def memory_texts(vm: VmSnapshot) -> dict[str, str]:
    """The Memory tab's values for `vm`; DM-only figures read "—" on a static VM."""
    settings = vm.memory
    dynamic_only = NONE_TEXT
    return {
        "startup": format_mb(settings.startup_mb),
        "dynamic": "Enabled" if settings.dynamic else "Disabled",
        "minimum": format_mb(settings.minimum_mb) if settings.dynamic else dynamic_only,
        "maximum": format_mb(settings.maximum_mb) if settings.dynamic else dynamic_only,
        "assigned": live_text(vm, format_mb(vm.assigned_mb), vm.assigned_mb, NONE_TEXT),
        "demand": live_text(vm, format_mb(vm.demand_mb), vm.demand_mb, NONE_TEXT),
        "status": vm.memory_status,
        "buffer": f"{settings.buffer_percent} %" if settings.dynamic else dynamic_only,
        "weight": f"{settings.weight} (0 = low, 100 = high)",
    }


def summary_texts(vm: VmSnapshot) -> dict[str, str]:
    return {
        "state": vm.state,
        "generation": str(vm.generation),
        "version": vm.version,
        "uptime": live_text(vm, format_uptime(vm.uptime_s), vm.uptime_s, NONE_TEXT),
        "cpu": live_text(vm, f"{vm.cpu_percent} %", vm.cpu_percent, NONE_TEXT),
        "vm_status": vm.status,
    }


class DetailsPane(QWidget):
    """The selected VM's figures in two tabs; empty when nothing is selected."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel("No virtual machine selected")
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        # Whether the VM would fit if started now (hvmem.power.start_fit's sentence).
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.note.setVisible(False)

        self.tabs = QTabWidget()
        self.values: dict[str, QLabel] = {}
        self.chart = MemoryChart()
        memory_tab = QWidget()
        memory_layout = QHBoxLayout(memory_tab)
        memory_layout.addWidget(self._form(MEMORY_ROWS))
        memory_layout.addWidget(self.chart, 1)
        self.tabs.addTab(self._form(SUMMARY_ROWS), "S&ummary")
        self.tabs.addTab(memory_tab, "&Memory")
        self.tabs.setCurrentIndex(1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.note)
        layout.addWidget(self.tabs)
        self.show_vm(None)

    def _form(self, rows: tuple[tuple[str, str], ...]) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft)
        form.setHorizontalSpacing(24)
        for key, label in rows:
            value = QLabel()
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.values[key] = value
            form.addRow(label, value)
        return page

    def show_note(self, text: str, kind: str = "note") -> None:
        """A sentence under the VM's name (`kind` as in `theme.message_style`), or none
        for an empty `text`."""
        self.note.setText(text)
        self.note.setStyleSheet(message_style(kind, self.note) if text else "")
        self.note.setVisible(bool(text))

    def show_vm(self, vm: VmSnapshot | None, samples: list[Sample] | None = None,
                now: float = 0.0) -> None:
        """Show `vm`'s figures and its recent `samples` (the chart's right edge at
        `now`), or blanks when `vm` is None."""
        self.chart.show_samples(samples or [], now)
        if vm is None:
            self.title.setText("No virtual machine selected")
            for label in self.values.values():
                label.setText("")
            self.tabs.setEnabled(False)
            return

        self.title.setText(vm.name)
        self.tabs.setEnabled(True)
        texts = {**summary_texts(vm), **memory_texts(vm)}
        for key, label in self.values.items():
            label.setText(texts[key])
