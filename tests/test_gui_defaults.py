"""Enter in every question hvmem asks takes the harmless choice: Cancel before a start
that may not fit and before Turn Off, Keep Editing before edits are dropped, Keep after
a partial result. The boxes are shown without a modal loop; Enter is typed into them."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt

from hvmem.gui.choice_dialog import ChoiceDialog
from hvmem.gui.power_actions import START_ANYWAY_CHOICES, TURN_OFF_CHOICES
from hvmem.gui.result_dialog import PARTIAL_CHOICES, ResultMessage
from hvmem.gui.settings_dialog import CLOSE_CHOICES
from test_gui_power import refresh, run_action, vm_named
from test_gui_results import partial_resize
from test_gui_settings import open_dialog, type_into

QUESTION = ResultMessage("Start gpu-cad", "gpu-cad may not fit in the host's free memory",
                         severity="warning")


@pytest.mark.parametrize(("choices", "escape", "harmless"), [
    (START_ANYWAY_CHOICES, "cancel", "cancel"),
    (TURN_OFF_CHOICES, "cancel", "cancel"),
    (CLOSE_CHOICES, "stay", "stay"),
    (PARTIAL_CHOICES, "keep", "keep"),
])
def test_enter_in_a_choice_box_takes_the_harmless_choice(
        qtbot: Any, choices: Any, escape: str, harmless: str) -> None:
    box = ChoiceDialog(QUESTION, choices, escape)
    qtbot.addWidget(box)
    box.show()  # not modal: no test opens a real modal box
    answers: list[str] = []
    box.answered.connect(answers.append)

    assert box.choice_buttons[harmless].isDefault()
    assert [k for k, b in box.choice_buttons.items() if b.isDefault()] == [harmless]
    qtbot.keyClick(box.focusWidget() or box, Qt.Key.Key_Return)

    assert answers == [harmless]


def test_a_start_that_may_not_fit_defaults_to_cancel(
        qtbot: Any, demo_window: Any, demo_host: Any, fake_notifier: Any) -> None:
    demo_host.sim_host.reserve_mb += 6000  # leaves 32 MB free: nothing fits
    refresh(qtbot, demo_window)
    demo_window.select_vm(vm_named(demo_window, "build-off").id)

    run_action(qtbot, demo_window, "start")

    [asked] = fake_notifier.shown
    assert [k for k, _label in asked.choices] == ["start", "cancel"]
    assert asked.default == "cancel"
    fake_notifier.answer("cancel")


def test_turn_off_defaults_to_cancel(qtbot: Any, demo_window: Any,
                                     fake_notifier: Any) -> None:
    demo_window.select_vm(vm_named(demo_window, "dev-win11").id)

    run_action(qtbot, demo_window, "turn_off")

    [asked] = fake_notifier.shown
    assert asked.default == "cancel"
    fake_notifier.answer("cancel")


def test_dropping_edits_defaults_to_keep_editing(qtbot: Any, demo_window: Any,
                                                 fake_notifier: Any) -> None:
    dialog = open_dialog(demo_window, "dev-win11")
    type_into(qtbot, dialog.page.startup_spin, "10240")

    dialog.close()  # the title bar's close, with an unapplied edit
    demo_window.close()  # and exiting the window with it

    assert [s.default for s in fake_notifier.shown] == ["stay", "stay"]
    fake_notifier.answer("stay")
    fake_notifier.answer("stay")
    dialog.discard_and_close()


def test_a_partial_result_defaults_to_keep(qtbot: Any, demo_window: Any,
                                           fake_notifier: Any) -> None:
    partial_resize(demo_window, qtbot)

    [asked] = fake_notifier.shown
    assert asked.default == "keep"
    fake_notifier.answer("keep")
