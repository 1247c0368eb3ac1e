"""The VM list: a table model updated in place, and the proxy that sorts it.

`VmTableModel.update` compares a fresh inventory with the rows it has, by VM Id, and
emits `dataChanged` for the cells that changed, inserts rows for new VMs and removes
rows for VMs that are gone. It never resets or lays out, so the view keeps its
selection, scroll position and sort order through every refresh. Texts (State, Status,
Memory Status) are shown as the host gave them; sorting uses numbers (MB, seconds,
percent) through `SORT_ROLE`.

A 200-VM host changes a few hundred cells a refresh, and all of it runs in the GUI
thread, so the model works out each row's texts and sort keys once per change, and
`VmSortProxy` compares ranks the model precomputes instead of asking `data()` twice per
comparison (`benchmarks/gui_stall.py` measures it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)

from hvmem.gui.theme import state_icon
from hvmem.model import Inventory, VmSnapshot
from hvmem.power import STATES_NEEDING_MEMORY
from hvmem.units import format_mb

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
VM_ID_ROLE = Qt.ItemDataRole.UserRole + 2

_Index = QModelIndex | QPersistentModelIndex
_RIGHT = int((Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter).value)
# Plain ints: `data` runs for every role of every painted cell, and comparing with an
# enum member costs several times more than with an int.
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_DECORATION = int(Qt.ItemDataRole.DecorationRole)
_ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole)
_SORT = int(SORT_ROLE)
_VM_ID = int(VM_ID_ROLE)
_ROLES_SERVED = frozenset((_DISPLAY, _DECORATION, _ALIGNMENT, _SORT, _VM_ID))


def format_uptime(seconds: int) -> str:
    """An uptime like Hyper-V Manager's: `d.hh:mm:ss`, the day part only when needed."""
    days, rest = divmod(max(seconds, 0), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    clock = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{days}.{clock}" if days else clock


def live_text(vm: VmSnapshot, text: str, value: int, none_text: str = "") -> str:
    """`text`, or `none_text` for a zero live figure of a VM that holds no memory.

    An Off or Saved VM has no assigned memory, CPU or uptime: Hyper-V Manager leaves
    those table cells empty and the details pane shows "—", since zeros would read as
    a measurement.
    """
    return none_text if value == 0 and vm.state in STATES_NEEDING_MEMORY else text


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
    Column("CPU Usage", lambda vm: live_text(vm, f"{vm.cpu_percent} %", vm.cpu_percent),
           lambda vm: vm.cpu_percent, numeric=True),
    Column("Assigned Memory",
           lambda vm: live_text(vm, format_mb(vm.assigned_mb), vm.assigned_mb),
           lambda vm: vm.assigned_mb, numeric=True),
    Column("Startup Memory", lambda vm: format_mb(vm.memory.startup_mb),
           lambda vm: vm.memory.startup_mb, numeric=True),
    Column("Dynamic Memory", lambda vm: "Enabled" if vm.memory.dynamic else "Disabled",
           lambda vm: int(vm.memory.dynamic)),
    Column("Memory Demand",
           lambda vm: live_text(vm, format_mb(vm.demand_mb), vm.demand_mb),
           lambda vm: vm.demand_mb, numeric=True),
    Column("Memory Status", lambda vm: vm.memory_status,
           lambda vm: vm.memory_status.casefold()),
    Column("Uptime", lambda vm: live_text(vm, format_uptime(vm.uptime_s), vm.uptime_s),
           lambda vm: vm.uptime_s, numeric=True),
    Column("Status", lambda vm: vm.status, lambda vm: vm.status.casefold()),
    Column("Configuration Version", lambda vm: vm.version, lambda vm: _version_key(vm)),
)
COLUMN_INDEX = {column.title: number for number, column in enumerate(COLUMNS)}


def _version_key(vm: VmSnapshot) -> str:
    # A string that sorts like the numbers in it ("9.0" before "10.0"); a Qt role carries
    # strings and ints cleanly, tuples less so.
    return ".".join(part.zfill(6) for part in vm.version.split("."))


@dataclass(frozen=True)
class _Row:
    """One VM with its cells worked out once: what each column shows and sorts by."""

    vm: VmSnapshot
    texts: tuple[str, ...]
    keys: tuple[Any, ...]


def _row(vm: VmSnapshot) -> _Row:
    return _Row(vm, tuple(column.text(vm) for column in COLUMNS),
                tuple(column.key(vm) for column in COLUMNS))


def changed_columns(old: _Row, new: _Row) -> list[int]:
    """The columns whose text, sort key or (for Name, its icon) differ."""
    changed = [number for number in range(len(COLUMNS))
               if old.texts[number] != new.texts[number]
               or old.keys[number] != new.keys[number]]
    # The Name cell carries the state icon too.
    if old.vm.state != new.vm.state and 0 not in changed:
        changed.insert(0, 0)
    return changed


def column_runs(columns: list[int]) -> tuple[tuple[int, int], ...]:
    """Sorted column numbers as (first, last) runs of neighbours: [2, 3, 6] -> 2-3, 6."""
    runs: list[tuple[int, int]] = []
    for number in columns:
        if runs and runs[-1][1] == number - 1:
            runs[-1] = (runs[-1][0], number)
        else:
            runs.append((number, number))
    return tuple(runs)


class VmTableModel(QAbstractTableModel):
    """The VMs of one host, one row each, kept in arrival order (the proxy sorts).

    Each row keeps its cells' texts and sort keys, worked out once per change of the
    VM, so painting and sorting never format figures again.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[_Row] = []
        self._row_by_id: dict[str, int] = {}
        self._ranks: dict[int, list[int]] = {}

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        horizontal = orientation == Qt.Orientation.Horizontal
        if horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section].title
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role not in _ROLES_SERVED or not index.isValid():
            return None
        row = self._rows[index.row()]
        column = index.column()
        if role == _DISPLAY:
            return row.texts[column]
        if role == _SORT:
            return row.keys[column]
        if role == _VM_ID:
            return row.vm.id
        if role == _ALIGNMENT:
            return _RIGHT if COLUMNS[column].numeric else None
        if column == 0:  # the decoration: the Name cell's state icon
            return state_icon(row.vm.state)
        return None

    def sort_ranks(self, column: int) -> list[int]:
        """Each row's place when sorted by `column`, then by name, then by arrival.

        Worked out once per change of the rows (Python's sort on the keys), so that
        each of the proxy's hundreds of comparisons is two list lookups.
        """
        ranks = self._ranks.get(column)
        if ranks is None:
            rows = self._rows
            order = sorted(range(len(rows)),
                           key=lambda number: (rows[number].keys[column],
                                               rows[number].keys[0]))
            ranks = [0] * len(rows)
            for place, number in enumerate(order):
                ranks[number] = place
            self._ranks[column] = ranks
        return ranks

    def vm_at(self, row: int) -> VmSnapshot:
        return self._rows[row].vm

    def vm(self, vm_id: str) -> VmSnapshot | None:
        row = self.row_of(vm_id)
        return None if row is None else self._rows[row].vm

    def row_of(self, vm_id: str) -> int | None:
        return self._row_by_id.get(vm_id.lower())

    def update(self, inventory: Inventory) -> None:
        """Bring the rows in line with `inventory`, in place, by VM Id.

        Only changed cells are announced: one `dataChanged` per run of neighbouring
        changed columns, shared by neighbouring rows whose runs are the same. Gone VMs
        are removed, new ones appended.
        """
        fresh = {vm.id: vm for vm in inventory.vms}
        self._remove_gone(fresh)

        changes: list[tuple[int, tuple[tuple[int, int], ...]]] = []
        for number, old in enumerate(self._rows):
            new_vm = fresh.pop(old.vm.id)
            if new_vm == old.vm:
                continue
            new = _row(new_vm)
            self._rows[number] = new
            self._ranks.clear()
            runs = column_runs(changed_columns(old, new))
            if runs:
                changes.append((number, runs))
        self._announce(changes)

        if fresh:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
            self._rows.extend(_row(vm) for vm in inventory.vms if vm.id in fresh)
            self._index_rows()
            self.endInsertRows()

    def _remove_gone(self, fresh: dict[str, VmSnapshot]) -> None:
        gone = [number for number, row in enumerate(self._rows) if row.vm.id not in fresh]
        # From the bottom, so the numbers still to remove stay valid.
        for number in reversed(gone):
            self.beginRemoveRows(QModelIndex(), number, number)
            del self._rows[number]
            self._index_rows()
            self.endRemoveRows()

    def _index_rows(self) -> None:
        self._ranks.clear()
        self._row_by_id = {row.vm.id: number for number, row in enumerate(self._rows)}

    def _announce(self, changes: list[tuple[int, tuple[tuple[int, int], ...]]]) -> None:
        """One `dataChanged` per column run per block of adjacent rows alike."""
        block_start = 0
        for position, (number, runs) in enumerate(changes):
            following = changes[position + 1] if position + 1 < len(changes) else None
            if following is not None and following == (number + 1, runs):
                continue
            first_row = changes[block_start][0]
            for first_column, last_column in runs:
                roles = [Qt.ItemDataRole.DisplayRole, SORT_ROLE]
                if first_column == 0:
                    roles.append(Qt.ItemDataRole.DecorationRole)
                self.dataChanged.emit(self.index(first_row, first_column),
                                      self.index(number, last_column), roles)
            block_start = position + 1


class VmSortProxy(QSortFilterProxyModel):
    """Sorts by `SORT_ROLE` (numbers for numbers), then by name for equal keys; keeps
    only the VMs whose name contains the filter text (any case)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self.setDynamicSortFilter(True)
        self.name_filter = ""
        self._vms: VmTableModel | None = None

    def setSourceModel(self, model: QAbstractItemModel) -> None:
        self._vms = model if isinstance(model, VmTableModel) else None
        super().setSourceModel(model)

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
        if self._vms is None:
            return bool(super().lessThan(left, right))
        # Ranks straight from the model: going through index.data() would cross into
        # Qt and back twice per comparison, and a re-sort makes hundreds of them.
        ranks = self._vms.sort_ranks(left.column())
        return ranks[left.row()] < ranks[right.row()]

