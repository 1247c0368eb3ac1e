"""The Memory page of a VM's settings: RAM, Dynamic Memory, buffer and weight.

The page follows the host while the user has not touched a field: each refresh from the
poller rewrites untouched fields (with signals blocked, so code never looks like
typing). A field the user has edited is never rewritten (F26); when the host's value
moves under it, a hint beside it says so. Fields the VM's state does not allow are
disabled with the reason shown beside them, and every edit is checked with
`hvmem.rules.check` as it is typed: errors (with their rule id) block Apply, warnings do
not.

All sizes are whole MB in int32 spin boxes (240 TB is 251658240 MB, well inside); bytes
never enter a Qt widget (F15). A size box also takes a unit, typed or pasted ("4GB").
"""

from __future__ import annotations

import logging
from typing import Any

import re

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QGroupBox,
    QLabel,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from hvmem import rules
from hvmem.gui.theme import message_style
from hvmem.model import SETTING_FIELDS, HostSnapshot, MemoryChange, VmSnapshot
from hvmem.power import STATES_NEEDING_MEMORY
from hvmem.units import format_mb, parse_size_mb

log = logging.getLogger("hvmem.gui")

SIZE_MAX_MB = 251_658_240  # 240 TB, the largest bound Hyper-V has; rules narrow it per VM
# Wider than Hyper-V's 5..2000, so that the rule, not the box, explains the limit.
BUFFER_MAX = 9999


# What a size with a unit looks like while it is still being typed ("4", "1.", "4 G").
_PARTIAL_SIZE = re.compile(r"^\s*[0-9]*(?:\.[0-9]*)?\s*(?:[mgt]b?)?\s*$", re.IGNORECASE)


class SizeSpinBox(QSpinBox):
    """A size in whole MB that also takes a unit, typed or pasted: "4GB" is 4096.

    Without this, Qt drops the letters one by one ("4GB" becomes 4 MB) and refuses a
    pasted "4GB" outright, so what the user wrote is lost without a word.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editingFinished.connect(self._show_in_mb)

    def _show_in_mb(self) -> None:
        # "4GB" stays as typed while the field has the focus, then reads as MB.
        if self.hasAcceptableInput():
            self.lineEdit().setText(self.textFromValue(self.value()))

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:
        state = super().validate(text, pos)
        plain = state[0] if isinstance(state, tuple) else state
        if plain == QValidator.State.Acceptable:
            return QValidator.State.Acceptable, text, pos
        try:
            mb = parse_size_mb(text)
        except ValueError:
            partial = _PARTIAL_SIZE.match(text) is not None
            return (QValidator.State.Intermediate if partial
                    else QValidator.State.Invalid), text, pos
        if self.minimum() <= mb <= self.maximum():
            return QValidator.State.Acceptable, text, pos
        return QValidator.State.Invalid, text, pos

    def valueFromText(self, text: str) -> int:
        try:
            return parse_size_mb(text)
        except ValueError:
            return int(super().valueFromText(text))


def _message_label() -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setVisible(False)
    return label


def _set_message(label: QLabel, text: str, style: str) -> None:
    label.setText(text)
    label.setStyleSheet(message_style(style, label))
    label.setVisible(bool(text))


class MemoryPage(QWidget):
    """The editable memory settings of one VM.

    Signals:
        edits_changed(): the user changed a field (the set of edits or a value).
        validity_changed(bool): whether the edit may be applied (no error finding).
    """

    edits_changed = Signal()
    validity_changed = Signal(bool)

    def __init__(self, vm: VmSnapshot, host: HostSnapshot | None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vm = vm
        self.host = host
        self.edited: set[str] = set()
        self.baseline: dict[str, Any] = {}  # the host value when the user started editing
        self.findings: list[rules.Finding] = []
        self.busy = False
        self._valid = True

        self.inputs: dict[str, QWidget] = {}
        self.notes: dict[str, QLabel] = {}  # why a field is disabled or limited
        self.problems: dict[str, QLabel] = {}  # rule findings on the typed value
        self.host_hints: dict[str, QLabel] = {}  # "changed on the host" under an edit
        self._build()

        for name in SETTING_FIELDS:
            self._write(name, getattr(vm.memory, name))
        self.refresh(vm, host)

    # --- building -----------------------------------------------------------------

    def _build(self) -> None:
        intro = QLabel("Specify the amount of memory that this virtual machine can use.")
        intro.setWordWrap(True)

        ram_box = QGroupBox("Memory")
        ram_grid = QGridLayout(ram_box)
        self.startup_spin = self._size_spin("startup_mb")
        self.assigned_label = QLabel()
        self.demand_label = QLabel()
        live = QWidget()
        live_layout = QVBoxLayout(live)
        live_layout.setContentsMargins(12, 0, 0, 0)
        live_layout.setSpacing(0)
        for label in (self.assigned_label, self.demand_label):
            label.setStyleSheet(message_style("note", label))
            live_layout.addWidget(label)
        self._add_row(ram_grid, 0, "startup_mb", "&RAM:", self.startup_spin, "MB", live)

        dm_box = QGroupBox("Dynamic Memory")
        dm_grid = QGridLayout(dm_box)
        self.dynamic_box = QCheckBox("Enable &Dynamic Memory")
        self.dynamic_box.toggled.connect(lambda _on: self._user_edited("dynamic"))
        self.inputs["dynamic"] = self.dynamic_box
        row = self._add_row(dm_grid, 0, "dynamic", "", self.dynamic_box, "")
        self.minimum_spin = self._size_spin("minimum_mb")
        row = self._add_row(dm_grid, row, "minimum_mb", "M&inimum RAM:",
                            self.minimum_spin, "MB")
        self.maximum_spin = self._size_spin("maximum_mb")
        row = self._add_row(dm_grid, row, "maximum_mb", "Ma&ximum RAM:",
                            self.maximum_spin, "MB")
        self.buffer_spin = self._spin("buffer_percent", 0, BUFFER_MAX)
        self._add_row(dm_grid, row, "buffer_percent", "Memory &buffer:",
                      self.buffer_spin, "%")

        weight_box = QGroupBox("Memory weight")
        self._build_weight(weight_box)

        self.general_problem = _message_label()
        self.state_banner = _message_label()
        layout = QVBoxLayout(self)
        for widget in (intro, self.state_banner, ram_box, dm_box, weight_box,
                       self.general_problem):
            layout.addWidget(widget)
        layout.addStretch(1)

    def _build_weight(self, box: QGroupBox) -> None:
        grid = QGridLayout(box)
        text = QLabel("Specify how to prioritize the availability of memory for this "
                      "virtual machine compared to other virtual machines on this "
                      "computer. A low weight may keep it from starting when memory "
                      "is scarce.")
        text.setWordWrap(True)
        grid.addWidget(text, 0, 0, 1, 4)

        self.weight_slider = QSlider(Qt.Orientation.Horizontal)
        self.weight_slider.setRange(rules.WEIGHT_RANGE[0], rules.WEIGHT_RANGE[1])
        self.weight_slider.setTickInterval(10)
        self.weight_slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.weight_slider.setPageStep(10)
        self.weight_slider.valueChanged.connect(lambda _v: self._user_edited("weight"))
        self.weight_slider.setAccessibleName("Memory weight")
        self.weight_value = QLabel()
        self.inputs["weight"] = self.weight_slider
        low = QLabel("&Low")
        low.setBuddy(self.weight_slider)
        grid.addWidget(low, 1, 0)
        grid.addWidget(self.weight_slider, 1, 1)
        grid.addWidget(QLabel("High"), 1, 2)
        grid.addWidget(self.weight_value, 1, 3)
        self._add_messages(grid, 2, "weight")

    def _spin(self, name: str, low: int, high: int,
              spin: QSpinBox | None = None) -> QSpinBox:
        spin = spin or QSpinBox()
        spin.setRange(low, high)
        spin.setMinimumWidth(120)
        spin.setAlignment(Qt.AlignmentFlag.AlignRight)
        # Both: textEdited catches a keystroke even before it makes a valid number.
        spin.lineEdit().textEdited.connect(lambda _t: self._user_edited(name))
        spin.valueChanged.connect(lambda _v: self._user_edited(name))
        self.inputs[name] = spin
        return spin

    def _size_spin(self, name: str) -> QSpinBox:
        spin = self._spin(name, 0, SIZE_MAX_MB, SizeSpinBox())
        spin.setSingleStep(2)  # Hyper-V takes memory in 2 MB steps
        return spin

    def _add_row(self, grid: QGridLayout, row: int, name: str, label: str,
                 widget: QWidget, unit: str, side: QWidget | None = None) -> int:
        if label:
            title = QLabel(label)
            title.setBuddy(widget)  # the & mnemonic moves the focus to the field
            grid.addWidget(title, row, 0)
        grid.addWidget(widget, row, 1)
        if unit:
            grid.addWidget(QLabel(unit), row, 2)
        if side is not None:
            grid.addWidget(side, row, 3)
        grid.setColumnStretch(3, 1)
        return self._add_messages(grid, row + 1, name)

    def _add_messages(self, grid: QGridLayout, row: int, name: str) -> int:
        for store in (self.notes, self.problems, self.host_hints):
            label = _message_label()
            store[name] = label
            grid.addWidget(label, row, 1, 1, 3)
            row += 1
        return row

    # --- values ---------------------------------------------------------------------

    def value(self, name: str) -> Any:
        """The value a field shows now."""
        widget = self.inputs[name]
        if isinstance(widget, QCheckBox):
            return widget.isChecked()
        assert isinstance(widget, (QSpinBox, QSlider))
        return widget.value()

    def _write(self, name: str, value: Any) -> None:
        # Blocked, so that code filling a field never counts as the user's edit.
        widget = self.inputs[name]
        with QSignalBlocker(widget):
            if isinstance(widget, QCheckBox):
                widget.setChecked(bool(value))
            else:
                assert isinstance(widget, (QSpinBox, QSlider))
                widget.setValue(int(value))
        if name == "weight":
            self.weight_value.setText(str(int(value)))

    def change(self) -> MemoryChange:
        """The edited fields that the VM's state allows, as one change."""
        states = self._field_states()
        values = {name: self.value(name) for name in SETTING_FIELDS
                  if name in self.edited and states[name].enabled}
        return MemoryChange(**values)

    def has_errors(self) -> bool:
        return any(finding.is_error for finding in self.findings)

    # --- reacting -------------------------------------------------------------------

    def _user_edited(self, name: str) -> None:
        if name not in self.edited:
            self.edited.add(name)
            self.baseline[name] = getattr(self.vm.memory, name)
            log.debug("user edits %s of %s", name, self.vm.name)
        if name == "weight":
            self.weight_value.setText(str(self.weight_slider.value()))
        self._apply_field_states()
        self._revalidate()
        self.edits_changed.emit()

    def refresh(self, vm: VmSnapshot, host: HostSnapshot | None) -> None:
        """Take a fresh snapshot from the host; untouched fields follow it."""
        self.vm = vm
        if host is not None:
            self.host = host

        for name in SETTING_FIELDS:
            host_value = getattr(vm.memory, name)
            if name in self.edited:
                self._show_host_move(name, host_value)
            elif not self.inputs[name].hasFocus():
                self._write(name, host_value)

        running = vm.state not in STATES_NEEDING_MEMORY
        self.assigned_label.setText(
            f"Assigned now: {format_mb(vm.assigned_mb)}" if running else "")
        self.demand_label.setText(
            f"Demand now: {format_mb(vm.demand_mb)}" if running and vm.demand_mb else "")
        self._apply_field_states()
        self._revalidate()

    def _show_host_move(self, name: str, host_value: Any) -> None:
        if host_value == self.baseline.get(name, host_value):
            _set_message(self.host_hints[name], "", "host")
            return
        shown = format_mb(host_value) if name.endswith("_mb") else str(host_value)
        if isinstance(host_value, bool):
            shown = "on" if host_value else "off"
        _set_message(self.host_hints[name], f"Changed on the host: now {shown}", "host")

    def has_edits(self) -> bool:
        """Whether the user changed a field that the VM's state lets them send."""
        return not rules.effective_change(self.vm, self.change()).is_empty()

    def forget_edits(self) -> None:
        """Drop the edit marks, so every field follows the host again (Revert)."""
        self.edited.clear()
        self.baseline.clear()
        for label in self.host_hints.values():
            _set_message(label, "", "host")
        for name in SETTING_FIELDS:
            self._write(name, getattr(self.vm.memory, name))
        self.refresh(self.vm, self.host)

    def set_busy(self, busy: bool) -> None:
        """Freeze the inputs while an apply runs (values and edit marks are kept)."""
        self.busy = busy
        self._apply_field_states()

    def _field_states(self) -> dict[str, rules.FieldState]:
        return rules.field_states(self.vm, dynamic=self.dynamic_box.isChecked())

    def _apply_field_states(self) -> None:
        states = self._field_states()
        reasons = {state.reason for state in states.values()}
        all_blocked = len(reasons) == 1 and not any(s.enabled for s in states.values())
        banner = next(iter(reasons)) if all_blocked else ""
        _set_message(self.state_banner, banner, "banner")

        shown: set[str] = set()
        for name, state in states.items():
            widget = self.inputs[name]
            widget.setEnabled(state.enabled and not self.busy)
            widget.setToolTip(state.reason)
            # One reason is said once, beside the first field it holds for (the others
            # carry it as a tooltip), so the page does not repeat itself.
            visible = "" if all_blocked or state.reason in shown else state.reason
            shown.add(state.reason)
            _set_message(self.notes[name], visible, "note")

    def _revalidate(self) -> None:
        self.findings = rules.check(self.vm, self.change(), self.host)
        texts: dict[str | None, list[tuple[str, str]]] = {}
        for finding in self.findings:
            field = finding.field if finding.field in self.problems else None
            mark = "Error" if finding.is_error else "Warning"
            texts.setdefault(field, []).append(
                (f"{mark} [{finding.rule}]: {finding.message}", finding.severity))

        for field, label in [*self.problems.items(), (None, self.general_problem)]:
            lines = texts.get(field, [])
            style = "error" if any(sev == "error" for _t, sev in lines) else "warning"
            _set_message(label, "\n".join(text for text, _sev in lines), style)

        valid = not self.has_errors()
        if valid != self._valid:
            self._valid = valid
            self.validity_changed.emit(valid)
