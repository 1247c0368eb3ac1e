"""The main window on the demo host, through real pywinrm over loopback WinRM."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from PySide6.QtCore import Qt

from hvmem.gui.vm_table import COLUMN_INDEX, VM_ID_ROLE
from hvmem.model import Inventory, VmSnapshot


def table_names(window: Any) -> list[str]:
    proxy = window.proxy
    column = COLUMN_INDEX["Name"]
    return [proxy.index(row, column).data() for row in range(proxy.rowCount())]


def cell(window: Any, vm_name: str, column: str) -> str:
    model = window.model
    for row in range(model.rowCount()):
        if model.vm_at(row).name == vm_name:
            return str(model.index(row, COLUMN_INDEX[column]).data())
    raise AssertionError(f"{vm_name} is not in the table")


def vm_named(inventory: Inventory, name: str) -> VmSnapshot:
    return next(vm for vm in inventory.vms if vm.name == name)


def test_window_shows_the_demo_hosts_vms(demo_window: Any, demo_host: Any) -> None:
    scenario_names = sorted(vm.name for vm in demo_host.sim_host.vms())

    assert sorted(table_names(demo_window)) == scenario_names
    assert demo_window.windowTitle() == "hvmem — DESKTOP-HV (simulated Hyper-V host)"
    assert cell(demo_window, "dev-win11", "Startup Memory") == "8192 MB"
    assert cell(demo_window, "web-dm", "Dynamic Memory") == "Enabled"
    assert "32768 MB total" in demo_window.host_memory_label.text()
    assert demo_window.poll_label.full_text().startswith("Updated")


def test_selecting_a_vm_fills_the_details_pane(demo_window: Any) -> None:
    vm = vm_named(demo_window.inventory, "web-dm")

    demo_window.select_vm(vm.id)

    assert demo_window.details.title.text() == "web-dm"
    assert demo_window.details.values["maximum"].text() == "8192 MB"
    assert demo_window.details.values["dynamic"].text() == "Enabled"
    assert demo_window.settings_action.isEnabled()


def _moved(inventory: Inventory, name: str, **changes: Any) -> Inventory:
    vms = tuple(replace(vm, **changes) if vm.name == name else vm for vm in inventory.vms)
    return Inventory(inventory.host, vms)


def test_refresh_keeps_selection_sort_and_scroll(demo_window: Any, qtbot: Any) -> None:
    table = demo_window.table
    demo_window.resize(900, 260)  # small, so that the table scrolls
    table.sortByColumn(COLUMN_INDEX["Assigned Memory"], Qt.SortOrder.DescendingOrder)
    selected = vm_named(demo_window.inventory, "ubuntu-lts")
    demo_window.select_vm(selected.id)
    table.verticalScrollBar().setValue(table.verticalScrollBar().maximum())
    scroll = table.verticalScrollBar().value()
    assert scroll > 0
    resets: list[bool] = []
    demo_window.model.modelReset.connect(lambda: resets.append(True))

    # ubuntu-lts grows to the top of the assigned-memory order; a VM appears, one goes.
    fresh = _moved(demo_window.inventory, "ubuntu-lts", assigned_mb=30000)
    newcomer = replace(vm_named(fresh, "build-off"), id="0000-new", name="new-vm")
    fresh = Inventory(fresh.host, tuple(vm for vm in fresh.vms if vm.name != "Café-DB")
                      + (newcomer,))
    demo_window.on_inventory(fresh)

    rows = table.selectionModel().selectedRows()
    assert [index.data(VM_ID_ROLE) for index in rows] == [selected.id]
    assert table_names(demo_window)[0] == "ubuntu-lts"
    assigned = [demo_window.proxy.index(r, COLUMN_INDEX["Assigned Memory"]).data(
        Qt.ItemDataRole.UserRole + 1) for r in range(demo_window.proxy.rowCount())]
    assert assigned == sorted(assigned, reverse=True)
    assert table.horizontalHeader().sortIndicatorSection() == COLUMN_INDEX[
        "Assigned Memory"]
    assert "new-vm" in table_names(demo_window)
    assert "Café-DB" not in table_names(demo_window)
    assert resets == []
    assert table.verticalScrollBar().value() == scroll
    assert demo_window.details.title.text() == "ubuntu-lts"


def test_memory_is_sorted_as_numbers(demo_window: Any) -> None:
    demo_window.table.sortByColumn(COLUMN_INDEX["Startup Memory"],
                                   Qt.SortOrder.AscendingOrder)
    proxy = demo_window.proxy
    column = COLUMN_INDEX["Startup Memory"]

    shown = [int(proxy.index(r, column).data().split()[0])
             for r in range(proxy.rowCount())]

    # As text, "8192 MB" would sort after "16384 MB"; as numbers it must not.
    assert shown == sorted(shown)


def test_a_failed_poll_is_a_status_not_a_box(demo_window: Any, demo_host: Any,
                                             fake_notifier: Any, qtbot: Any) -> None:
    demo_host.stop()

    with qtbot.waitSignal(demo_window.poller.poll_failed, timeout=20_000):
        demo_window.poller.poll_now()

    assert "Not responding" in demo_window.poll_label.full_text()
    assert fake_notifier.shown == []
    assert demo_window.model.rowCount() == len(demo_window.inventory.vms)


def _mnemonic(text: str) -> str:
    index = text.replace("&&", "").find("&")
    return text.replace("&&", "")[index + 1].lower() if index >= 0 else ""


def test_no_label_takes_the_alt_key_of_a_menu(demo_window: Any) -> None:
    from PySide6.QtWidgets import QLabel, QTabBar

    menus = [_mnemonic(a.text()) for a in demo_window.menuBar().actions()]
    labels = [_mnemonic(w.text()) for w in demo_window.findChildren(QLabel)]
    for bar in demo_window.findChildren(QTabBar):
        labels += [_mnemonic(bar.tabText(i)) for i in range(bar.count())]
    labels = [key for key in labels if key]

    assert {"v", "h"} <= set(menus)
    assert not set(labels) & set(menus), (labels, menus)
    assert len(labels) == len(set(labels)), labels


def test_an_active_filter_says_how_many_vms_it_hides(demo_window: Any) -> None:
    note = demo_window.filter_note
    total = demo_window.proxy.sourceModel().rowCount()
    assert note.isHidden()

    demo_window.filter_edit.setText("winzz")

    assert not note.isHidden()
    assert f"Showing 0 of {total} VMs" in note.text() and "'winzz'" in note.text()


def test_esc_in_the_filter_box_clears_it(demo_window: Any, qtbot: Any) -> None:
    demo_window.filter_edit.setText("winzz")
    demo_window.filter_edit.setFocus()
    qtbot.waitUntil(demo_window.filter_edit.hasFocus, timeout=2_000)

    qtbot.keyClick(demo_window.filter_edit, Qt.Key.Key_Escape)

    assert demo_window.filter_edit.text() == ""
    assert demo_window.proxy.rowCount() == demo_window.proxy.sourceModel().rowCount()
    assert demo_window.filter_note.isHidden()
