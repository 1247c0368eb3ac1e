"""The VM list: a table model updated in place, and the proxy that sorts it.

`VmTableModel.update` compares a fresh inventory with the rows it has, by VM Id, and
emits `dataChanged` for the cells that changed, inserts rows for new VMs and removes
rows for VMs that are gone. It never resets, so the view keeps its selection, scroll
position and sort order through every refresh. Texts (State, Status, Memory Status) are
shown as the host gave them; sorting uses numbers (MB, seconds, percent) through
`SORT_ROLE`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)

from hvmem.gui.theme import state_icon
from hvmem.model import Inventory, VmSnapshot
from hvmem.units import format_mb

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
VM_ID_ROLE = Qt.ItemDataRole.UserRole + 2

_Index = QModelIndex | QPersistentModelIndex
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


def format_uptime(seconds: int) -> str:
    """An uptime like Hyper-V Manager's: `d.hh:mm:ss`, the day part only when needed."""
    days, rest = divmod(max(seconds, 0), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    clock = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{days}.{clock}" if days else clock


def _live(vm: VmSnapshot, text: str, value: int) -> str:
    # An Off or Saved VM has no assigned memory, CPU or uptime; Hyper-V Manager leaves
    # those cells empty rather than showing zeros.
    return "" if value == 0 and vm.state in ("Off", "Saved") else text


@dataclass(frozen=True)
class Column:
    """One column: its title, its display text and its sort key."""

    title: str
    text: Callable[[VmSnapshot], str]
    key: Callable[[VmSnapshot], Any]
    numeric: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("Name", lambda vm: vm.name, lambda vm: vm.name.casefold()),
    Column("State", lambda vm: vm.state, lambda vm: vm.state.casefold()),
    Column("CPU Usage", lambda vm: _live(vm, f"{vm.cpu_percent} %", vm.cpu_percent),
           lambda vm: vm.cpu_percent, numeric=True),
    Column("Assigned Memory",
           lambda vm: _live(vm, format_mb(vm.assigned_mb), vm.assigned_mb),
           lambda vm: vm.assigned_mb, numeric=True),
    Column("Startup Memory", lambda vm: format_mb(vm.memory.startup_mb),
           lambda vm: vm.memory.startup_mb, numeric=True),
    Column("Dynamic Memory", lambda vm: "Enabled" if vm.memory.dynamic else "Disabled",
           lambda vm: int(vm.memory.dynamic)),
    Column("Memory Demand", lambda vm: _live(vm, format_mb(vm.demand_mb), vm.demand_mb),
           lambda vm: vm.demand_mb, numeric=True),
    Column("Memory Status", lambda vm: vm.memory_status,
           lambda vm: vm.memory_status.casefold()),
    Column("Uptime", lambda vm: _live(vm, format_uptime(vm.uptime_s), vm.uptime_s),
           lambda vm: vm.uptime_s, numeric=True),
    Column("Status", lambda vm: vm.status, lambda vm: vm.status.casefold()),
    Column("Configuration Version", lambda vm: vm.version, lambda vm: _version_key(vm)),
)
COLUMN_INDEX = {column.title: number for number, column in enumerate(COLUMNS)}


def _version_key(vm: VmSnapshot) -> str:
    # A string that sorts like the numbers in it ("9.0" before "10.0"); a Qt role carries
    # strings and ints cleanly, tuples less so.
    return ".".join(part.zfill(6) for part in vm.version.split("."))


class VmTableModel(QAbstractTableModel):
    """The VMs of one host, one row each, kept in arrival order (the proxy sorts)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._vms: list[VmSnapshot] = []

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._vms)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        horizontal = orientation == Qt.Orientation.Horizontal
        if horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section].title
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        vm = self._vms[index.row()]
        column = COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(vm)
        if role == SORT_ROLE:
            return column.key(vm)
        if role == VM_ID_ROLE:
            return vm.id
        if role == Qt.ItemDataRole.TextAlignmentRole and column.numeric:
            return int(_RIGHT.value)
        if role == Qt.ItemDataRole.DecorationRole and index.column() == 0:
            return state_icon(vm.state)
        return None

    def vm_at(self, row: int) -> VmSnapshot:
        return self._vms[row]

    def vm(self, vm_id: str) -> VmSnapshot | None:
        row = self.row_of(vm_id)
        return None if row is None else self._vms[row]

    def row_of(self, vm_id: str) -> int | None:
        wanted = vm_id.lower()
        return next((row for row, vm in enumerate(self._vms) if vm.id == wanted), None)

    def update(self, inventory: Inventory) -> None:
        """Bring the rows in line with `inventory`, in place, by VM Id."""
        fresh = {vm.id: vm for vm in inventory.vms}

        for row in range(len(self._vms) - 1, -1, -1):
            if self._vms[row].id not in fresh:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._vms[row]
                self.endRemoveRows()

        for row, old in enumerate(self._vms):
            new = fresh.pop(old.id)
            if new != old:
                self._vms[row] = new
                self._emit_changed_cells(row, old, new)

        if fresh:
            first = len(self._vms)
            self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
            self._vms.extend(vm for vm in inventory.vms if vm.id in fresh)
            self.endInsertRows()

    def _emit_changed_cells(self, row: int, old: VmSnapshot, new: VmSnapshot) -> None:
        for number, column in enumerate(COLUMNS):
            changed = (column.text(old) != column.text(new)
                       or column.key(old) != column.key(new))
            # The Name cell carries the state icon too.
            if changed or (number == 0 and old.state != new.state):
                cell = self.index(row, number)
                roles = [Qt.ItemDataRole.DisplayRole, SORT_ROLE]
                if number == 0:
                    roles.append(Qt.ItemDataRole.DecorationRole)
                self.dataChanged.emit(cell, cell, roles)


class VmSortProxy(QSortFilterProxyModel):
    """Sorts by `SORT_ROLE` (numbers for numbers), then by name for equal keys; keeps
    only the VMs whose name contains the filter text (any case)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self.setDynamicSortFilter(True)
        self.name_filter = ""

    def set_name_filter(self, text: str) -> None:
        """Show only VMs whose name contains `text` (case-insensitive); "" shows all."""
        if hasattr(self, "beginFilterChange"):  # Qt 6.9 and later
            self.beginFilterChange()
            self.name_filter = text.strip().casefold()
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            self.name_filter = text.strip().casefold()
            self.invalidateFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: _Index) -> bool:
        if not self.name_filter:
            return True
        name = self.sourceModel().index(source_row, 0, source_parent).data()
        return self.name_filter in str(name).casefold()

    def lessThan(self, left: _Index, right: _Index) -> bool:
        left_key = left.data(SORT_ROLE)
        right_key = right.data(SORT_ROLE)
        if left_key != right_key:
            return bool(left_key < right_key)
        # Equal keys: fall back to the name, so equal rows keep a stable order.
        left_name = left.sibling(left.row(), 0).data(SORT_ROLE)
        right_name = right.sibling(right.row(), 0).data(SORT_ROLE)
        return bool(left_name < right_name)
