"""The desktop user's errand in the window: Start, Shut Down, Turn Off and Save.

Every test runs the window on the demo host over real WinRM on loopback: the actions
follow the selected VM's state, the details pane says whether a start fits, a start that
does not fit asks first and then shows Hyper-V's own out-of-memory text, a shrunk VM
frees enough for the start to succeed, and Turn Off asks before pulling the plug.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hvmem import controller
from hvmem.gui.power_actions import describe_power, enabled_actions
from hvmem.model import MemoryChange, VmSnapshot

START_OOM_ID = "OutOfMemory,Microsoft.HyperV.PowerShell.Commands.StartVM"


def vm_named(window: Any, name: str) -> VmSnapshot:
    return next(vm for vm in window.inventory.vms if vm.name == name)


def enabled(window: Any) -> set[str]:
    return {key for key, action in window.window_actions.power.items()
            if action.isEnabled()}


def run_action(qtbot: Any, window: Any, action: str) -> None:
    window.window_actions.power[action].trigger()


def wait_done(qtbot: Any, window: Any) -> None:
    """Until the power job has answered and the refresh after it has landed."""
    qtbot.waitUntil(lambda: not window.power_actions.running, timeout=10_000)
    qtbot.waitUntil(lambda: not window.poller.in_flight, timeout=10_000)


def wait_state(qtbot: Any, window: Any, name: str, state: str) -> None:
    qtbot.waitUntil(lambda: vm_named(window, name).state == state, timeout=10_000)
    qtbot.waitUntil(lambda: not window.poller.in_flight, timeout=10_000)


def refresh(qtbot: Any, window: Any) -> None:
    with qtbot.waitSignal(window.poller.inventory_arrived, timeout=10_000):
        window.poller_refresh()


def test_actions_follow_the_state_name_never_the_status_text(demo_window: Any) -> None:
    window = demo_window
    expected = {"dev-win11": {"stop", "turn_off", "save"}, "build-off": {"start"},
                "test-saved": {"start"},
                "win10-paused": {"start", "stop", "turn_off", "save"}}

    for name, actions in expected.items():
        window.select_vm(vm_named(window, name).id)
        assert enabled(window) == actions, name
        buttons = {key for key in ("start", "shut_down", "turn_off", "save")
                   if window.actions_pane.buttons[key].isEnabled()}
        assert len(buttons) == len(actions), name
    window.table.clearSelection()
    assert enabled(window) == set()

    off = vm_named(window, "build-off")
    assert enabled_actions(replace(off, status="Running")) == {"start"}
    assert enabled_actions(replace(off, state="Running", status="Off")) == {
        "stop", "turn_off", "save"}


def test_start_done_is_a_status_line_and_the_table_shows_it_running(
        qtbot: Any, demo_window: Any, fake_notifier: Any) -> None:
    window = demo_window
    window.select_vm(vm_named(window, "build-off").id)
    assert window.details.note.text() == (
        "build-off needs 4096 MB to start; the host has 6032 MB free.")

    run_action(qtbot, window, "start")
    wait_state(qtbot, window, "build-off", "Running")

    assert fake_notifier.shown == []
    assert window.status_text() == "build-off is Running now."
    assert enabled(window) == {"stop", "turn_off", "save"}
    assert window.details.note.isHidden()


def test_a_start_that_does_not_fit_asks_then_shows_hyperv_own_text(
        qtbot: Any, demo_window: Any, fake_notifier: Any) -> None:
    window = demo_window
    window.select_vm(vm_named(window, "build-off").id)
    run_action(qtbot, window, "start")
    wait_state(qtbot, window, "build-off", "Running")
    gpu = vm_named(window, "gpu-cad")
    window.select_vm(gpu.id)
    assert "has only 1936 MB free: free 2160 MB first" in window.details.note.text()

    run_action(qtbot, window, "start")
    [asked] = fake_notifier.shown
    assert asked.kind == "ask" and "has only 1936 MB free" in asked.message.informative
    assert [key for key, _label in asked.choices] == ["start", "cancel"]
    fake_notifier.answer("start")
    wait_done(qtbot, window)

    shown = fake_notifier.shown[-1]
    assert shown.kind == "message"
    assert shown.message.summary == (
        "The host does not have enough free memory to start gpu-cad")
    assert ("Hyper-V says: 'gpu-cad' failed to start. Not enough memory in the system "
            "to start the virtual machine gpu-cad.") in shown.message.informative
    assert "Not enough memory in the system to start the virtual machine gpu-cad." in (
        shown.message.details)
    assert f"FullyQualifiedErrorId: {START_OOM_ID}" in shown.message.details
    assert "HRESULT: 0x8007000E" in shown.message.details
    assert vm_named(window, "gpu-cad").state == "Off"


def test_cancel_on_a_start_that_does_not_fit_sends_nothing(
        qtbot: Any, demo_window: Any, demo_host: Any, fake_notifier: Any) -> None:
    window = demo_window
    demo_host.sim_host.reserve_mb += 6000  # leaves 32 MB free: nothing fits
    refresh(qtbot, window)
    window.select_vm(vm_named(window, "build-off").id)

    run_action(qtbot, window, "start")
    fake_notifier.answer("cancel")

    assert not window.power_actions.running
    assert demo_host.sim_host.find(vm_named(window, "build-off").id).state == "Off"
    assert len(fake_notifier.shown) == 1


def test_shrinking_a_running_vm_frees_enough_to_start_the_one_that_did_not_fit(
        qtbot: Any, demo_window: Any, demo_host: Any, fake_notifier: Any) -> None:
    window = demo_window
    window.select_vm(vm_named(window, "build-off").id)
    run_action(qtbot, window, "start")
    wait_state(qtbot, window, "build-off", "Running")

    # Free memory as the settings dialog would: a runtime shrink of a static VM.
    client = demo_host.client()
    try:
        inventory = client.list()
        dev = next(vm for vm in inventory.vms if vm.name == "dev-win11")
        shrink = controller.apply(client, dev, MemoryChange(startup_mb=5632),
                                  inventory.host, sleep=lambda _s: None)
    finally:
        client.close()
    assert shrink.outcome == "applied"
    refresh(qtbot, window)
    window.select_vm(vm_named(window, "gpu-cad").id)
    assert window.details.note.text() == (
        "gpu-cad needs 4096 MB to start; the host has 4496 MB free.")

    run_action(qtbot, window, "start")
    wait_state(qtbot, window, "gpu-cad", "Running")

    assert fake_notifier.shown == []  # it fit: no question, no box
    assert window.status_text() == "gpu-cad is Running now."
    assert vm_named(window, "gpu-cad").assigned_mb == 4096


def test_turn_off_asks_first_and_cancel_leaves_the_vm_running(
        qtbot: Any, demo_window: Any, demo_host: Any, fake_notifier: Any) -> None:
    window = demo_window
    dev = vm_named(window, "dev-win11")
    window.select_vm(dev.id)

    run_action(qtbot, window, "turn_off")
    [asked] = fake_notifier.shown
    assert asked.kind == "ask" and asked.message.summary == "Turn off dev-win11?"
    assert "pulling the plug" in asked.message.informative
    fake_notifier.answer("cancel")
    assert not window.power_actions.running
    assert demo_host.sim_host.find(dev.id).state == "Running"

    run_action(qtbot, window, "turn_off")
    fake_notifier.answer("turn_off")
    wait_state(qtbot, window, "dev-win11", "Off")
    assert window.status_text() == "dev-win11 is Off now."
    assert enabled(window) == {"start"}


def test_shut_down_and_save_need_no_question(qtbot: Any, demo_window: Any,
                                             fake_notifier: Any) -> None:
    window = demo_window
    window.select_vm(vm_named(window, "web-dm").id)
    run_action(qtbot, window, "save")
    wait_state(qtbot, window, "web-dm", "Saved")
    window.select_vm(vm_named(window, "ubuntu-lts").id)
    run_action(qtbot, window, "stop")
    wait_state(qtbot, window, "ubuntu-lts", "Off")

    assert fake_notifier.shown == []


def test_a_vm_that_moved_behind_the_window_gives_a_conflict(
        qtbot: Any, demo_window: Any, demo_host: Any, fake_notifier: Any) -> None:
    window = demo_window
    dev = vm_named(window, "dev-win11")
    window.select_vm(dev.id)
    demo_host.sim_host.power(dev.id, "save_vm")  # someone else saved it meanwhile

    run_action(qtbot, window, "save")
    wait_done(qtbot, window)

    [shown] = fake_notifier.shown
    assert shown.message.summary == (
        "dev-win11 changed on the host since it was read; nothing was done")
    assert "dev-win11 is Saved now, not Running as hvmem read it" in (
        shown.message.informative)
    qtbot.waitUntil(lambda: vm_named(window, "dev-win11").state == "Saved")


def test_a_refusal_without_records_still_names_the_vm(demo_window: Any) -> None:
    from hvmem.errors import ErrorKind, HvmemError
    from hvmem.power import PowerResult

    vm = vm_named(demo_window, "build-off")
    error = HvmemError(ErrorKind.ACCESS_DENIED, "This account may not start build-off",
                       details="Access is denied.", hint="Connect as an administrator.")
    message = describe_power(PowerResult("refused", "start", vm, None, error=error))

    assert message.summary == "This account may not start build-off"
    assert message.details == "Access is denied."
    assert "Connect as an administrator." in message.informative
