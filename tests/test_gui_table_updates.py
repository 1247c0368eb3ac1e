"""The VM table on a 200-VM host: a refresh touches only the cells that changed.

The `hoster` scenario is read in-process (its agent behind an InProcessChannel), and the
window is fed inventories by hand, so each test sees exactly one refresh. Signals of the
source model and the proxy are counted; none of these tests measures time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from PySide6.QtCore import QAbstractItemModel, QModelIndex, Qt

from hvmem.gui.main_window import MainWindow
from hvmem.gui.session import HostSession
from hvmem.gui.vm_table import COLUMN_INDEX, COLUMNS, SORT_ROLE, VM_ID_ROLE
from hvmem.hyperv.channel import InProcessChannel
from hvmem.hyperv.client import HostClient
from hvmem.model import Inventory, VmSnapshot
from hvmem.sim.agent import SimAgent
from hvmem.sim.scenario import load_scenario

DEMAND = COLUMN_INDEX["Memory Demand"]
NAME = COLUMN_INDEX["Name"]


@dataclass
class Signals:
    """What one model emitted: changed cells, and rows or layouts or resets."""

    cells: list[tuple[int, int, int, int]] = field(default_factory=list)
    roles: list[list[int]] = field(default_factory=list)
    inserted: list[tuple[int, int]] = field(default_factory=list)
    removed: list[tuple[int, int]] = field(default_factory=list)
    layouts: int = 0
    resets: int = 0

    def watch(self, model: QAbstractItemModel) -> Signals:
        model.dataChanged.connect(self._on_data)
        model.rowsInserted.connect(lambda _p, a, b: self.inserted.append((a, b)))
        model.rowsRemoved.connect(lambda _p, a, b: self.removed.append((a, b)))
        model.layoutChanged.connect(lambda *_args: self._count("layouts"))
        model.modelReset.connect(lambda: self._count("resets"))
        return self

    def _on_data(self, top: QModelIndex, bottom: QModelIndex, roles: list[int]) -> None:
        self.cells.append((top.row(), top.column(), bottom.row(), bottom.column()))
        self.roles.append([int(role) for role in roles])

    def _count(self, name: str) -> None:
        setattr(self, name, getattr(self, name) + 1)

    def covered(self) -> set[tuple[int, int]]:
        """Every (row, column) inside an emitted dataChanged range."""
        return {(row, column) for top, left, bottom, right in self.cells
                for row in range(top, bottom + 1) for column in range(left, right + 1)}


@pytest.fixture
def hoster_window(qtbot: Any, fake_notifier: Any) -> Iterator[MainWindow]:
    """The window on the hoster scenario's first inventory, tall enough to scroll."""
    sim_host = load_scenario("hoster", seed=3)
    agent = SimAgent(sim_host)
    client = HostClient(InProcessChannel(agent.handle_line, "hoster"), sim_host.name)
    window = MainWindow(HostSession(client, sim_host.name), notifier=fake_notifier,
                        poll_interval_ms=60_000)
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.show()
    window.on_inventory(client.list())
    try:
        yield window
    finally:
        window.shutdown()


def _inventory(window: MainWindow) -> Inventory:
    assert window.inventory is not None
    return window.inventory


def _with(inventory: Inventory, vm_id: str, **changes: Any) -> Inventory:
    vms = tuple(replace(vm, **changes) if vm.id == vm_id else vm for vm in inventory.vms)
    return Inventory(inventory.host, vms)


def _running(inventory: Inventory) -> list[VmSnapshot]:
    running = [vm for vm in inventory.vms if vm.state == "Running"]
    assert len(running) > 20
    return running


def _shown_ids(window: MainWindow) -> list[str]:
    proxy = window.proxy
    return [proxy.index(row, 0).data(VM_ID_ROLE) for row in range(proxy.rowCount())]


def _cells(window: MainWindow) -> dict[tuple[int, int], tuple[Any, Any]]:
    model = window.model
    return {(row, column): (model.index(row, column).data(),
                            model.index(row, column).data(SORT_ROLE))
            for row in range(model.rowCount()) for column in range(len(COLUMNS))}


def test_the_hoster_scenario_fills_the_table(hoster_window: MainWindow) -> None:
    assert hoster_window.model.rowCount() == 200
    assert hoster_window.proxy.rowCount() == 200


def test_one_changed_demand_touches_that_cell_only(hoster_window: MainWindow) -> None:
    inventory = _inventory(hoster_window)
    vm = _running(inventory)[7]
    row = hoster_window.model.row_of(vm.id)
    source = Signals().watch(hoster_window.model)
    proxy = Signals().watch(hoster_window.proxy)

    hoster_window.on_inventory(_with(inventory, vm.id, demand_mb=vm.demand_mb + 64))

    assert source.cells == [(row, DEMAND, row, DEMAND)]
    assert source.layouts == source.resets == 0
    assert source.inserted == source.removed == []
    # Sorted by name, nothing moves: the proxy passes the one cell on, no layout.
    assert len(proxy.cells) == 1
    assert proxy.layouts == proxy.resets == 0


def test_an_unchanged_refresh_emits_nothing(hoster_window: MainWindow) -> None:
    source = Signals().watch(hoster_window.model)

    hoster_window.on_inventory(_inventory(hoster_window))

    assert source == Signals()


def test_many_changes_cover_exactly_the_changed_cells(hoster_window: MainWindow) -> None:
    inventory = _inventory(hoster_window)
    running = _running(inventory)
    fresh = inventory
    # Like a live host: every running VM's uptime grows, some demands and CPUs move,
    # and one VM changes state (its Name cell carries the state icon).
    for number, vm in enumerate(running):
        changes: dict[str, Any] = {"uptime_s": vm.uptime_s + 2}
        if number % 3 == 0:
            changes["demand_mb"] = vm.demand_mb + 32
        if number % 4 == 0:
            changes["cpu_percent"] = (vm.cpu_percent + 5) % 100
        fresh = _with(fresh, vm.id, **changes)
    fresh = _with(fresh, running[-1].id, state="Paused")
    before = _cells(hoster_window)
    source = Signals().watch(hoster_window.model)

    hoster_window.on_inventory(fresh)

    after = _cells(hoster_window)
    changed = {cell for cell in before if before[cell] != after[cell]}
    changed.add((hoster_window.model.row_of(running[-1].id), NAME))
    assert source.covered() == changed
    # Neighbouring cells (and rows alike) share a range: fewer emits than cells.
    assert len(source.cells) < len(changed)
    assert source.layouts == source.resets == 0
    name_roles = [roles for cells, roles in zip(source.cells, source.roles, strict=True)
                  if cells[1] == NAME]
    assert name_roles == [[int(Qt.ItemDataRole.DisplayRole), int(SORT_ROLE),
                           int(Qt.ItemDataRole.DecorationRole)]]


def test_vms_come_and_go_by_id(hoster_window: MainWindow) -> None:
    inventory = _inventory(hoster_window)
    gone = inventory.vms[10]
    newcomer = replace(inventory.vms[11], id="ffffffff-0000-0000-0000-000000000001",
                       name="zz-new-vm")
    kept = tuple(vm for vm in inventory.vms if vm.id != gone.id)
    source = Signals().watch(hoster_window.model)

    hoster_window.on_inventory(Inventory(inventory.host, (*kept, newcomer)))

    assert source.removed == [(10, 10)]
    assert source.inserted == [(199, 199)]
    assert source.cells == []
    assert source.layouts == source.resets == 0
    assert hoster_window.model.row_of(gone.id) is None
    assert hoster_window.model.row_of(newcomer.id) == 199
    assert hoster_window.model.row_of(inventory.vms[11].id) == 10
    shown = [hoster_window.proxy.index(row, NAME).data()
             for row in range(hoster_window.proxy.rowCount())]
    assert newcomer.id in _shown_ids(hoster_window)
    assert gone.id not in _shown_ids(hoster_window)
    assert shown == sorted(shown, key=str.casefold)  # the newcomer in its place


def test_sorted_by_demand_a_moving_vm_keeps_selection_and_scroll(
        hoster_window: MainWindow) -> None:
    table = hoster_window.table
    table.sortByColumn(DEMAND, Qt.SortOrder.DescendingOrder)
    inventory = _inventory(hoster_window)
    running = _running(inventory)
    selected = running[len(running) // 2]
    hoster_window.select_vm(selected.id)
    bar = table.verticalScrollBar()
    bar.setValue(bar.maximum() // 2)
    scroll = bar.value()
    assert scroll > 0
    top = max(vm.demand_mb for vm in inventory.vms)
    mover = running[3]
    source = Signals().watch(hoster_window.model)
    proxy = Signals().watch(hoster_window.proxy)

    fresh = _with(inventory, mover.id, demand_mb=top + 1000)
    fresh = _with(fresh, selected.id, demand_mb=selected.demand_mb + 1)
    hoster_window.on_inventory(fresh)

    assert _shown_ids(hoster_window)[0] == mover.id
    demands = [hoster_window.proxy.index(row, DEMAND).data(SORT_ROLE)
               for row in range(hoster_window.proxy.rowCount())]
    assert demands == sorted(demands, reverse=True)
    rows = table.selectionModel().selectedRows()
    assert [index.data(VM_ID_ROLE) for index in rows] == [selected.id]
    assert bar.value() == scroll
    assert table.horizontalHeader().sortIndicatorSection() == DEMAND
    assert hoster_window.details.title.text() == selected.name
    # The source model never lays out or resets; the proxy re-sorts once.
    assert source.layouts == source.resets == 0
    assert sorted(source.covered()) == sorted(
        (hoster_window.model.row_of(vm.id), DEMAND) for vm in (mover, selected))
    assert proxy.layouts == 1
    assert proxy.resets == 0


def test_a_renamed_vm_leaves_the_filter(hoster_window: MainWindow) -> None:
    inventory = _inventory(hoster_window)
    vm = inventory.vms[5]
    hoster_window.filter_edit.setText(vm.name)
    assert vm.id in _shown_ids(hoster_window)

    hoster_window.on_inventory(_with(inventory, vm.id, name="renamed-elsewhere"))

    assert vm.id not in _shown_ids(hoster_window)
    hoster_window.filter_edit.setText("renamed-elsewhere")
    assert _shown_ids(hoster_window) == [vm.id]
