"""A conflict box says what moved: when only the VM's state changed between reading it
and Apply (it was stopped meanwhile), it names the states, not the same memory value
twice as 'read' and 'now'."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from hvmem.controller import ApplyResult
from hvmem.gui.result_dialog import describe_result
from hvmem.model import MemorySettings
from test_gui_settings import open_dialog, type_into

STATIC = MemorySettings(8192, False, 512, 1048576, 20, 50)


def conflict(after: MemorySettings, state_after: str) -> ApplyResult:
    return ApplyResult("conflict", "1", "dev-win11", STATIC,
                       MemorySettings(10240, False, 512, 1048576, 20, 50), after, 0,
                       asked=("startup_mb",), state_before="Running",
                       state_after=state_after)


def test_a_state_that_moved_alone_is_named_instead_of_the_same_value_twice() -> None:
    text = describe_result(conflict(STATIC, "Off"), "dev-win11").informative

    assert ("The state changed: dev-win11 was Running when this window read it, and "
            "is Off now.") in text
    assert "When this window read it: Startup RAM 8192 MB" not in text
    assert "The VM has now: Startup RAM 8192 MB" not in text


def test_state_and_settings_that_both_moved_are_both_named() -> None:
    moved = MemorySettings(4096, False, 512, 1048576, 20, 50)
    text = describe_result(conflict(moved, "Off"), "dev-win11").informative

    assert "was Running when this window read it, and is Off now" in text
    assert "When this window read it: Startup RAM 8192 MB." in text
    assert "The VM has now: Startup RAM 4096 MB." in text


def test_a_vm_stopped_behind_an_open_dialog_gives_a_state_conflict(
        demo_window: Any, demo_host: Any, qtbot: Any, fake_notifier: Any) -> None:
    dialog = open_dialog(demo_window, "dev-win11")
    type_into(qtbot, dialog.page.startup_spin, "10240")
    demo_host.sim_host.power(dialog.vm_id, "stop_vm")  # someone stops it meanwhile

    with qtbot.waitSignal(dialog.result_arrived, timeout=15_000) as arrived:
        qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)

    result = arrived.args[0]
    assert result.outcome == "conflict"
    assert (result.state_before, result.state_after) == ("Running", "Off")
    [shown] = fake_notifier.shown
    assert "dev-win11 was Running when this window read it, and is Off now" in (
        shown.message.informative)
    assert "The VM has now:" not in shown.message.informative
