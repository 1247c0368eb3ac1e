"""The Memory page on its own: MB-only spin boxes (F15), states, edits and the change."""

from __future__ import annotations

from typing import Any

import pytest

from hvmem.gui.memory_page import MemoryPage
from hvmem.model import HostSnapshot, MemorySettings, VmSnapshot

HOST = HostSnapshot("HV01", total_mb=65536, available_mb=16384)


def make_vm(state: str = "Off", dynamic: bool = True, maximum_mb: int = 1048576,
            version: str = "10.0") -> VmSnapshot:
    memory = MemorySettings(4096, dynamic, 512, maximum_mb, 20, 50)
    return VmSnapshot(
        id="8e0c5a55-1111-4000-8000-000000000001", name="big", state=state,
        generation=2, version=version, memory=memory,
        assigned_mb=4096 if state == "Running" else 0, demand_mb=0, memory_status="",
        cpu_percent=0, uptime_s=0, status="Operating normally",
    )


@pytest.fixture
def page(qtbot: Any) -> Any:
    def make(vm: VmSnapshot) -> MemoryPage:
        widget = MemoryPage(vm, HOST)
        qtbot.addWidget(widget)
        widget.show()
        return widget

    return make


def test_one_terabyte_maximum_shows_in_mb_without_overflow(page: Any) -> None:
    memory_page = page(make_vm(maximum_mb=1048576))

    assert memory_page.maximum_spin.value() == 1048576
    assert memory_page.maximum_spin.maximum() >= 251658240  # 240 TB in MB fits int32


def test_the_largest_hyperv_size_fits_the_spin_box(page: Any) -> None:
    memory_page = page(make_vm(maximum_mb=251658240, version="12.0"))

    assert memory_page.maximum_spin.value() == 251658240
    assert memory_page.change().is_empty()  # loading values is not an edit


def test_change_holds_only_the_edited_fields(page: Any, qtbot: Any) -> None:
    memory_page = page(make_vm())
    memory_page.maximum_spin.selectAll()
    qtbot.keyClicks(memory_page.maximum_spin, "16384")

    assert memory_page.change().as_dict() == {"maximum_mb": 16384}


def test_turning_dynamic_memory_off_greys_its_fields(page: Any, qtbot: Any) -> None:
    memory_page = page(make_vm(dynamic=True))

    memory_page.dynamic_box.click()

    assert not memory_page.minimum_spin.isEnabled()
    assert "Dynamic Memory" in memory_page.notes["minimum_mb"].text()
    assert memory_page.change().as_dict() == {"dynamic": False}


def test_a_saved_vm_is_read_only_with_one_banner(page: Any) -> None:
    memory_page = page(make_vm(state="Saved"))

    assert not any(widget.isEnabled() for widget in memory_page.inputs.values())
    assert "Saved" in memory_page.state_banner.text()
    assert not memory_page.state_banner.isHidden()
    assert all(note.isHidden() for note in memory_page.notes.values())
    assert "Saved" in memory_page.startup_spin.toolTip()


def test_an_edited_field_that_becomes_disabled_is_not_sent(page: Any, qtbot: Any) -> None:
    memory_page = page(make_vm(dynamic=True))
    memory_page.minimum_spin.selectAll()
    qtbot.keyClicks(memory_page.minimum_spin, "1024")

    memory_page.dynamic_box.click()

    assert memory_page.minimum_spin.text() == "1024"  # kept on screen
    assert memory_page.change().as_dict() == {"dynamic": False}
