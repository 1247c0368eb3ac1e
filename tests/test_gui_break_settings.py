"""The settings dialog driven like a user against a host that misbehaves or moves."""

from __future__ import annotations

import dataclasses
from typing import Any

from PySide6.QtCore import Qt

from hvmem.model import Inventory, VmSnapshot

from gui_helpers import count_writes, type_into


def vm_named(inventory: Inventory, name: str) -> VmSnapshot:
    return next(vm for vm in inventory.vms if vm.name == name)


def open_dialog(window: Any, qtbot: Any, name: str) -> Any:
    vm = vm_named(window.inventory, name)
    window.select_vm(vm.id)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2_000)
    qtbot.keyClick(window.table, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    dialog = window.dialogs[vm.id]
    dialog.activateWindow()  # offscreen windows do not take focus on their own
    qtbot.waitUntil(dialog.isActiveWindow, timeout=2_000)
    return dialog


def poll(window: Any, qtbot: Any) -> None:
    with qtbot.waitSignal(window.poller.inventory_arrived, timeout=10_000):
        assert window.poller.poll_now()


def set_on_host(demo_host: Any, name: str, **settings: Any) -> None:
    sim = demo_host.sim_host
    vm = next(v for v in sim.vms() if v.name == name)
    with sim.lock:
        vm.settings = dataclasses.replace(vm.settings, **settings)


def test_f26_typing_survives_refreshes_and_enter_sends_once(
        demo_window: Any, demo_host: Any, qtbot: Any, monkeypatch: Any) -> None:
    writes = count_writes(demo_window, monkeypatch)
    dialog = open_dialog(demo_window, qtbot, "build-off")
    spin, hint = dialog.page.startup_spin, dialog.page.host_hints["startup_mb"]
    type_into(qtbot, spin, "40")

    poll(demo_window, qtbot)  # the host still has 4096
    assert spin.text() == "40" and hint.isHidden()
    set_on_host(demo_host, "build-off", startup_mb=3072)  # another admin
    poll(demo_window, qtbot)
    assert spin.text() == "40"
    assert hint.text() == "Changed on the host: now 3072 MB" and not hint.isHidden()

    qtbot.keyClicks(spin, "96")
    with qtbot.waitSignal(dialog.result_arrived, timeout=15_000) as arrived:
        qtbot.keyClick(spin, Qt.Key.Key_Return)

    assert [change.as_dict() for change in writes] == [{"startup_mb": 4096}]
    assert arrived.args[0].outcome == "applied"
    assert demo_host.sim_host.find(dialog.vm_id).settings.startup_mb == 4096


def test_rapid_apply_clicks_and_closing_during_apply_send_once(
        demo_window: Any, demo_host: Any, qtbot: Any, monkeypatch: Any,
        fake_notifier: Any) -> None:
    writes = count_writes(demo_window, monkeypatch)
    dialog = open_dialog(demo_window, qtbot, "build-off")
    type_into(qtbot, dialog.page.startup_spin, "6144")
    demo_host.server.inject("Receive", delay=0.5)  # the host takes its time

    with qtbot.waitSignal(dialog.result_arrived, timeout=15_000) as arrived:
        for _ in range(5):
            qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)
        dialog.close()
        assert dialog.isVisible()  # the result must find the dialog

    assert len(writes) == 1 and arrived.args[0].outcome == "applied"
    assert fake_notifier.shown == []


def test_refused_credentials_at_apply_are_not_called_a_hyperv_refusal(
        demo_window: Any, demo_host: Any, qtbot: Any, fake_notifier: Any) -> None:
    dialog = open_dialog(demo_window, qtbot, "build-off")
    type_into(qtbot, dialog.page.startup_spin, "6144")
    demo_host.server._users.clear()  # the password was changed meanwhile

    with qtbot.waitSignal(dialog.result_arrived, timeout=15_000):
        qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)

    [shown] = fake_notifier.shown
    assert shown.on_gui_thread and shown.parent is dialog
    assert "Hyper-V" not in shown.message.summary  # Hyper-V never saw the request
    assert "credentials were rejected" in shown.message.summary
    assert "user 'demo'" in shown.message.details
    assert dialog.page.startup_spin.text() == "6144"  # nothing typed is lost


def test_a_size_typed_or_pasted_with_a_unit_is_taken(demo_window: Any,
                                                     qtbot: Any) -> None:
    from PySide6.QtWidgets import QApplication

    dialog = open_dialog(demo_window, qtbot, "build-off")
    page = dialog.page
    type_into(qtbot, page.startup_spin, "6GB")
    assert page.startup_spin.value() == 6144
    assert page.change().as_dict() == {"startup_mb": 6144}

    QApplication.clipboard().setText("1.5 gb")
    type_into(qtbot, page.startup_spin, "")
    qtbot.keyClick(page.startup_spin, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert page.startup_spin.value() == 1536
    qtbot.keyClick(page.startup_spin, Qt.Key.Key_Tab)
    assert page.startup_spin.text() == "1536"  # shown in MB once the field is left


def test_f15_one_terabyte_maximum_in_mb_and_exact_bytes_on_the_wire(
        demo_window: Any, qtbot: Any, monkeypatch: Any) -> None:
    client = demo_window.session.client
    sent: list[dict[str, Any]] = []
    original = client._call

    def recording(op: str, args: Any, *rest: Any) -> Any:
        if op == "set_memory":
            sent.append(args["changes"])
        return original(op, args, *rest)

    monkeypatch.setattr(client, "_call", recording)
    untouched = open_dialog(demo_window, qtbot, "dev-win11")
    assert untouched.page.maximum_spin.value() == 1048576
    assert not untouched.apply_button.isEnabled()  # only edited fields are sent
    qtbot.mouseClick(untouched.ok_button, Qt.MouseButton.LeftButton)
    assert not untouched.isVisible() and sent == []

    dialog = open_dialog(demo_window, qtbot, "gpu-cad")
    type_into(qtbot, dialog.page.maximum_spin, "1TB")
    with qtbot.waitSignal(dialog.result_arrived, timeout=15_000) as arrived:
        qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)

    assert arrived.args[0].outcome == "applied"
    assert sent == [{"maximum_bytes": 1099511627776}]
