"""The one error helper: what its boxes say, and the guard that keeps them out of tests."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtWidgets import QDialog, QMessageBox

from hvmem.controller import ApplyResult
from hvmem.errors import ErrorKind, HvmemError
from hvmem.gui.notifier import ErrorBox, Notifier
from hvmem.gui.result_dialog import describe_error, describe_result
from hvmem.model import MemorySettings
from hvmem.rules import Finding

BEFORE = MemorySettings(2048, True, 512, 8192, 20, 50)


def test_a_real_box_in_a_test_fails_at_once(qapp: Any) -> None:
    from conftest import ModalDialogReached

    with pytest.raises(ModalDialogReached):
        Notifier().error("HV01 refused the credentials")
    with pytest.raises(ModalDialogReached):
        QMessageBox.critical(None, "hvmem", "static helper")
    with pytest.raises(ModalDialogReached):
        QDialog().exec()


def test_error_box_keeps_the_hosts_text_under_details(qtbot: Any) -> None:
    error = HvmemError(ErrorKind.AUTH, "The host refused the credentials",
                       details="HTTP 401 from https://hv01:5986/wsman",
                       hint="Check the user name and password.", host="HV01")

    box = ErrorBox(describe_error(error))
    qtbot.addWidget(box)

    assert box.text() == "On HV01: The host refused the credentials"
    assert box.informativeText() == "Check the user name and password."
    assert box.detailedText() == "HTTP 401 from https://hv01:5986/wsman"


def make_result(outcome: Any, **extra: Any) -> ApplyResult:
    requested = MemorySettings(2048, True, 1024, 8192, 20, 50)
    return ApplyResult(outcome=outcome, vm_id="1", vm_name="web-dm", before=BEFORE,
                       requested=requested, after=extra.pop("after", BEFORE),
                       assigned_after_mb=2160, asked=("minimum_mb",), **extra)


def test_a_rejected_edit_names_its_rule() -> None:
    finding = Finding("running-dm-min-raise", "error", "minimum_mb",
                      "While the VM runs, Minimum RAM can only be lowered (now 512 MB)")

    message = describe_result(make_result("rejected", reasons=[finding]), "web-dm")

    assert "not sent" in message.summary
    assert "[running-dm-min-raise]" in message.informative
    assert "Minimum RAM 1024 MB" in message.informative


def test_a_conflict_says_nothing_was_applied_and_what_the_vm_has() -> None:
    moved = MemorySettings(2048, True, 768, 8192, 20, 50)

    message = describe_result(make_result("conflict", after=moved), "web-dm")

    assert "changed on the host" in message.summary
    assert "The VM has now: Minimum RAM 768 MB" in message.informative
