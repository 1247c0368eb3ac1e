"""The settings dialog's Memory page against the demo host: resize, partial, refresh."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from PySide6.QtCore import QThread, Qt

from hvmem.model import Inventory, VmSnapshot

from gui_helpers import count_writes, type_into


def vm_named(inventory: Inventory, name: str) -> VmSnapshot:
    return next(vm for vm in inventory.vms if vm.name == name)


def open_dialog(window: Any, name: str) -> Any:
    vm = vm_named(window.inventory, name)
    window.select_vm(vm.id)
    window.settings_action.trigger()
    return window.dialogs[vm.id]


def startup_cell(window: Any, name: str) -> str:
    row = window.model.row_of(vm_named(window.inventory, name).id)
    return str(window.model.index(row, 4).data())


def test_running_static_vm_is_resized_and_read_back(demo_window: Any, qtbot: Any,
                                                     monkeypatch: Any) -> None:
    writes = count_writes(demo_window, monkeypatch)
    dialog = open_dialog(demo_window, "dev-win11")
    type_into(qtbot, dialog.page.startup_spin, "10240")
    assert writes == []  # typing sends nothing

    with qtbot.waitSignal(dialog.result_arrived, timeout=15_000) as arrived:
        qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: startup_cell(demo_window, "dev-win11") == "10240 MB",
                    timeout=10_000)

    assert arrived.args[0].outcome == "applied"
    assert len(writes) == 1 and writes[0].as_dict() == {"startup_mb": 10240}
    assert "10240 MB" in demo_window.status_text()
    assert dialog.page.edited == set()  # the fields follow the host again


def test_request_above_free_memory_reports_the_partial_result(
        demo_window: Any, demo_host: Any, qtbot: Any, fake_notifier: Any) -> None:
    dialog = open_dialog(demo_window, "dev-win11")
    free = demo_window.inventory.host.available_mb
    type_into(qtbot, dialog.page.startup_spin, "20480")
    assert 20480 - 8192 > free
    assert "[host-free-memory]" in dialog.page.problems["startup_mb"].text()
    assert dialog.apply_button.isEnabled()  # a warning does not block

    with qtbot.waitSignal(dialog.result_arrived, timeout=15_000) as arrived:
        qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)

    result = arrived.args[0]
    achieved = demo_host.sim_host.find(result.vm_id).assigned_mb
    assert result.outcome == "partial" and achieved < 20480
    [shown] = fake_notifier.shown
    assert shown.on_gui_thread and shown.parent is dialog
    assert "only part" in shown.message.summary
    assert f"Assigned memory {achieved} MB" in shown.message.informative
    assert "20480 MB" in shown.message.informative
    assert "OutOfMemory" in shown.message.details
    assert dialog.page.startup_spin.text() == "20480"  # nothing typed is lost
    assert dialog.isVisible()


def test_dynamic_memory_box_of_a_running_vm_is_greyed_with_its_reason(
        demo_window: Any) -> None:
    dialog = open_dialog(demo_window, "web-dm")
    page = dialog.page

    assert not page.dynamic_box.isEnabled()
    assert page.dynamic_box.isChecked()
    reason = page.notes["dynamic"]
    assert "Shut down the VM" in reason.text() and not reason.isHidden()
    assert page.dynamic_box.toolTip() == reason.text()
    assert not page.startup_spin.isEnabled()
    assert page.maximum_spin.isEnabled()


def test_a_refresh_while_typing_leaves_the_typed_text(demo_window: Any,
                                                       qtbot: Any) -> None:
    dialog = open_dialog(demo_window, "dev-win11")
    spin = dialog.page.startup_spin
    type_into(qtbot, spin, "40")
    vm = vm_named(demo_window.inventory, "dev-win11")

    same = demo_window.inventory
    dialog.on_inventory(same)
    assert spin.text() == "40"
    assert dialog.page.host_hints["startup_mb"].isHidden()

    # Another admin sets 3072 MB and a higher weight meanwhile.
    moved = replace(vm, memory=replace(vm.memory, startup_mb=3072, weight=90))
    others = tuple(moved if v.id == vm.id else v for v in same.vms)
    dialog.on_inventory(Inventory(same.host, others))

    hint = dialog.page.host_hints["startup_mb"]
    assert spin.text() == "40"
    assert hint.text() == "Changed on the host: now 3072 MB" and not hint.isHidden()
    assert dialog.page.weight_slider.value() == 90  # untouched fields follow the host
    assert dialog.page.edited == {"startup_mb"}


def test_typing_an_unaligned_size_blocks_apply_with_the_rule(demo_window: Any,
                                                             qtbot: Any) -> None:
    dialog = open_dialog(demo_window, "build-off")
    type_into(qtbot, dialog.page.startup_spin, "4097")

    problem = dialog.page.problems["startup_mb"]
    assert "[align-2mb]" in problem.text() and not problem.isHidden()
    assert not dialog.apply_button.isEnabled() and not dialog.ok_button.isEnabled()

    type_into(qtbot, dialog.page.startup_spin, "4098")
    assert problem.isHidden()
    assert dialog.apply_button.isEnabled()


def test_results_arrive_on_the_gui_thread(demo_window: Any, qtbot: Any) -> None:
    dialog = open_dialog(demo_window, "build-off")
    type_into(qtbot, dialog.page.startup_spin, "6144")
    threads: list[bool] = []
    dialog.result_arrived.connect(
        lambda _r: threads.append(QThread.currentThread() is dialog.thread()))

    with qtbot.waitSignal(dialog.result_arrived, timeout=15_000):
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)

    assert threads == [True]
    qtbot.waitUntil(lambda: not dialog.isVisible())  # OK closes after an applied change


def test_an_untouched_startup_follows_the_host(demo_window: Any) -> None:
    dialog = open_dialog(demo_window, "dev-win11")
    same = demo_window.inventory
    vm = vm_named(same, "dev-win11")
    moved = replace(vm, memory=replace(vm.memory, startup_mb=3072), assigned_mb=3072)

    dialog.on_inventory(Inventory(same.host, tuple(
        moved if v.id == vm.id else v for v in same.vms)))

    assert dialog.page.startup_spin.value() == 3072
    assert dialog.page.assigned_label.text() == "Assigned now: 3072 MB"
    assert dialog.page.host_hints["startup_mb"].isHidden()
    assert dialog.page.edited == set() and not dialog.apply_button.isEnabled()
