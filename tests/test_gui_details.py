"""The details pane agrees with the table: a VM that holds no memory (Off, Saved) has
no assigned memory, demand, CPU or uptime to show, so it reads "—" where the table
leaves the cell empty, never "0 MB"."""

from __future__ import annotations

from typing import Any

import pytest

from hvmem.gui.vm_table import COLUMN_INDEX

LIVE = (("assigned", "Assigned Memory"), ("demand", "Memory Demand"),
        ("cpu", "CPU Usage"), ("uptime", "Uptime"))


def cell(window: Any, vm_id: str, title: str) -> str:
    row = window.model.row_of(vm_id)
    return str(window.model.index(row, COLUMN_INDEX[title]).data() or "")


@pytest.mark.parametrize("name", ["build-off", "test-saved"])
def test_a_vm_that_holds_no_memory_shows_no_figures(demo_window: Any,
                                                    name: str) -> None:
    vm = next(vm for vm in demo_window.inventory.vms if vm.name == name)
    demo_window.select_vm(vm.id)

    for key, title in LIVE:
        assert cell(demo_window, vm.id, title) == ""
        assert demo_window.details.values[key].text() == "—", key
    assert demo_window.details.values["startup"].text().endswith("MB")  # still set


def test_a_running_vm_shows_its_figures_in_both(demo_window: Any) -> None:
    vm = next(vm for vm in demo_window.inventory.vms if vm.name == "dev-win11")
    demo_window.select_vm(vm.id)

    for key, title in LIVE:
        assert demo_window.details.values[key].text() == cell(demo_window, vm.id, title)
