"""The main window driven like a user against hosts that change under it."""

from __future__ import annotations

from typing import Any

from hvmem.model import Inventory, VmSnapshot


def vm_named(inventory: Inventory, name: str) -> VmSnapshot:
    return next(vm for vm in inventory.vms if vm.name == name)


def remove_from_host(demo_host: Any, name: str) -> None:
    sim = demo_host.sim_host
    with sim.lock:
        sim._vms = [vm for vm in sim._vms if vm.name != name]


def poll(window: Any, qtbot: Any) -> None:
    with qtbot.waitSignal(window.poller.inventory_arrived, timeout=10_000):
        assert window.poller.poll_now()


def test_a_selected_vm_that_vanishes_leaves_nothing_selected(
        demo_window: Any, demo_host: Any, qtbot: Any) -> None:
    # Qt's single-selection views select the next row when the selected one is removed;
    # a power action (Save, Shut Down ask nothing) would then hit a VM nobody chose.
    demo_window.select_vm(vm_named(demo_window.inventory, "ubuntu-lts").id)

    remove_from_host(demo_host, "ubuntu-lts")
    poll(demo_window, qtbot)

    assert demo_window.selected_vm() is None
    assert not demo_window.settings_action.isEnabled()
    assert not any(action.isEnabled()
                   for action in demo_window.window_actions.power.values())
    assert demo_window.details.title.text() == "No virtual machine selected"


def test_another_vm_vanishing_keeps_the_selection(demo_window: Any, demo_host: Any,
                                                  qtbot: Any) -> None:
    chosen = vm_named(demo_window.inventory, "dev-win11")
    demo_window.select_vm(chosen.id)

    remove_from_host(demo_host, "build-off")
    poll(demo_window, qtbot)

    selected = demo_window.selected_vm()
    assert selected is not None and selected.id == chosen.id
    assert demo_window.details.title.text() == "dev-win11"


def test_closing_the_window_over_unapplied_edits_asks_first(
        demo_window: Any, qtbot: Any, fake_notifier: Any) -> None:
    vm = vm_named(demo_window.inventory, "build-off")
    demo_window.select_vm(vm.id)
    dialog = demo_window.open_settings()
    dialog.page.startup_spin.selectAll()
    qtbot.keyClicks(dialog.page.startup_spin, "6144")

    demo_window.close()
    assert demo_window.isVisible() and dialog.isVisible()
    [asked] = fake_notifier.shown
    assert "build-off" in asked.message.summary and asked.kind == "ask"
    fake_notifier.answer("stay")
    assert dialog.page.startup_spin.text() == "6144"  # nothing typed is lost

    demo_window.close()
    fake_notifier.answer("discard")
    assert not demo_window.isVisible()
