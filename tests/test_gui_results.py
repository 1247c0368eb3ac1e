"""The Memory page's results and habits: partial (keep, try again, go back), unknown
(read again), conflict, Revert, the prompt on close, Enter and Esc."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from hvmem.controller import ApplyResult
from hvmem.errors import ErrorKind, HvmemError
from hvmem.gui import settings_dialog
from hvmem.gui.result_dialog import describe_result
from hvmem.model import MemorySettings
from test_gui_settings import count_writes, open_dialog, type_into


def partial_resize(window: Any, qtbot: Any) -> Any:
    dialog = open_dialog(window, "dev-win11")
    type_into(qtbot, dialog.page.startup_spin, "20480")
    with qtbot.waitSignal(dialog.result_arrived, timeout=15_000) as arrived:
        qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    assert arrived.args[0].outcome == "partial"
    return dialog


def test_partial_offers_three_choices(demo_window: Any, qtbot: Any,
                                      fake_notifier: Any) -> None:
    partial_resize(demo_window, qtbot)

    [asked] = fake_notifier.shown
    assert asked.kind == "ask"
    assert [key for key, _label in asked.choices] == ["keep", "retry", "back"]
    assert "Before the change: Startup RAM 8192 MB" in asked.message.informative
    # Part of it landed: weighed as a warning, not shown as a failure.
    assert asked.message.severity == "warning"
    # What to do next comes before Hyper-V's own text.
    assert "The host did not have enough free memory: free some" in (
        asked.message.informative)


def test_go_back_applies_the_values_before(demo_window: Any, demo_host: Any, qtbot: Any,
                                           fake_notifier: Any, monkeypatch: Any) -> None:
    dialog = partial_resize(demo_window, qtbot)
    writes = count_writes(demo_window, monkeypatch)

    with qtbot.waitSignal(dialog.result_arrived, timeout=15_000) as arrived:
        fake_notifier.answer("back")

    assert [w.as_dict() for w in writes] == [{"startup_mb": 8192}]
    assert arrived.args[0].outcome == "applied"
    assert demo_host.sim_host.find(arrived.args[0].vm_id).assigned_mb == 8192
    assert "8192 MB" in demo_window.status_text()


def test_try_again_sends_the_same_request(demo_window: Any, qtbot: Any,
                                          fake_notifier: Any, monkeypatch: Any) -> None:
    dialog = partial_resize(demo_window, qtbot)
    writes = count_writes(demo_window, monkeypatch)

    with qtbot.waitSignal(dialog.result_arrived, timeout=15_000) as arrived:
        fake_notifier.answer("retry")

    assert [w.as_dict() for w in writes] == [{"startup_mb": 20480}]
    assert arrived.args[0].outcome in ("partial", "refused")  # the host is still full
    assert fake_notifier.shown[-1].kind in ("ask", "message")


def test_keep_drops_the_edit_and_says_so(demo_window: Any, qtbot: Any,
                                         fake_notifier: Any, monkeypatch: Any) -> None:
    dialog = partial_resize(demo_window, qtbot)
    writes = count_writes(demo_window, monkeypatch)

    fake_notifier.answer("keep")

    assert writes == [] and dialog.page.edited == set()
    assert "kept what was achieved" in demo_window.status_text()


def test_unknown_reads_the_vm_again_and_shows_it(demo_window: Any, qtbot: Any,
                                                fake_notifier: Any,
                                                monkeypatch: Any) -> None:
    dialog = open_dialog(demo_window, "build-off")
    vm = dialog.page.vm

    def broken_apply(client: Any, vm: Any, change: Any, host: Any) -> ApplyResult:
        error = HvmemError(ErrorKind.UNREACHABLE, "The connection to the host broke")
        return ApplyResult("unknown", vm.id, vm.name, vm.memory,
                           vm.memory.with_change(change), None, None, error=error,
                           asked=tuple(change.names()))

    monkeypatch.setattr(settings_dialog.controller, "apply", broken_apply)
    type_into(qtbot, dialog.page.startup_spin, "6144")
    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(fake_notifier.shown), timeout=10_000)

    [shown] = fake_notifier.shown
    assert "read the VM again" in shown.message.summary
    assert f"The host has now: Startup RAM {vm.memory.startup_mb} MB" in (
        shown.message.informative)
    assert "did not land" in shown.message.informative
    assert not dialog.busy


def test_conflict_shows_both_values() -> None:
    before = MemorySettings(2048, True, 512, 8192, 20, 50)
    after = MemorySettings(2048, True, 768, 8192, 20, 50)
    result = ApplyResult("conflict", "1", "web-dm", before,
                         MemorySettings(2048, True, 1024, 8192, 20, 50), after, 2160,
                         asked=("minimum_mb",))

    text = describe_result(result, "web-dm").informative

    assert "When this window read it: Minimum RAM 512 MB" in text
    assert "The VM has now: Minimum RAM 768 MB" in text


def test_revert_shows_the_hosts_values_again(demo_window: Any, qtbot: Any) -> None:
    dialog = open_dialog(demo_window, "build-off")
    assert not dialog.revert_button.isEnabled()
    type_into(qtbot, dialog.page.startup_spin, "6144")
    assert dialog.revert_button.isEnabled()

    qtbot.mouseClick(dialog.revert_button, Qt.MouseButton.LeftButton)

    assert dialog.page.startup_spin.value() == dialog.page.vm.memory.startup_mb
    assert dialog.page.edited == set() and not dialog.apply_button.isEnabled()


def test_closing_with_edits_asks_first(demo_window: Any, qtbot: Any,
                                       fake_notifier: Any, monkeypatch: Any) -> None:
    writes = count_writes(demo_window, monkeypatch)
    dialog = open_dialog(demo_window, "build-off")
    type_into(qtbot, dialog.page.startup_spin, "6144")

    dialog.close()
    assert dialog.isVisible()
    assert [k for k, _l in fake_notifier.shown[-1].choices] == ["apply", "discard",
                                                                 "stay"]
    fake_notifier.answer("stay")
    assert dialog.isVisible() and dialog.page.startup_spin.text() == "6144"

    dialog.close()
    fake_notifier.answer("discard")
    assert not dialog.isVisible() and writes == []


def test_enter_applies_and_esc_cancels(demo_window: Any, qtbot: Any,
                                       monkeypatch: Any) -> None:
    writes = count_writes(demo_window, monkeypatch)
    dialog = open_dialog(demo_window, "build-off")
    type_into(qtbot, dialog.page.startup_spin, "6144")

    with qtbot.waitSignal(dialog.result_arrived, timeout=15_000):
        qtbot.keyClick(dialog.page.startup_spin, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert [w.as_dict() for w in writes] == [{"startup_mb": 6144}]

    again = open_dialog(demo_window, "build-off")
    type_into(qtbot, again.page.startup_spin, "4096")
    qtbot.keyClick(again.page.startup_spin, Qt.Key.Key_Escape)
    assert not again.isVisible() and len(writes) == 1


def test_fields_have_mnemonics_to_reach_them(demo_window: Any) -> None:
    from PySide6.QtWidgets import QLabel

    dialog = open_dialog(demo_window, "build-off")
    buddies = {label.text(): label.buddy() for label in dialog.findChildren(QLabel)
               if label.buddy() is not None}

    page = dialog.page
    assert buddies["&RAM:"] is page.startup_spin
    assert buddies["M&inimum RAM:"] is page.minimum_spin
    assert buddies["Ma&ximum RAM:"] is page.maximum_spin
    assert buddies["Memory &buffer:"] is page.buffer_spin
    assert "&" in page.dynamic_box.text()


def test_go_back_after_try_again_restores_the_values_before_the_first_attempt(
        demo_window: Any, demo_host: Any, qtbot: Any, fake_notifier: Any,
        monkeypatch: Any) -> None:
    dialog = open_dialog(demo_window, "dev-win11")
    type_into(qtbot, dialog.page.startup_spin, "14336")  # 14 GB: the host has less
    with qtbot.waitSignal(dialog.result_arrived, timeout=15_000) as arrived:
        qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    assert arrived.args[0].outcome == "partial"
    sim_host = demo_host.sim_host
    with sim_host.lock:  # a little memory comes free, so the retry grows a little
        sim_host.reserve_mb -= 64
    with qtbot.waitSignal(dialog.result_arrived, timeout=15_000) as arrived:
        fake_notifier.answer("retry")
    assert arrived.args[0].outcome == "partial"
    assert arrived.args[0].before.startup_mb != 8192  # what the first try reached
    writes = count_writes(demo_window, monkeypatch)

    with qtbot.waitSignal(dialog.result_arrived, timeout=15_000) as arrived:
        fake_notifier.answer("back")

    assert [w.as_dict() for w in writes] == [{"startup_mb": 8192}]
    assert demo_host.sim_host.find(arrived.args[0].vm_id).assigned_mb == 8192
