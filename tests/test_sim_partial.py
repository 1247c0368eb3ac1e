"""Partial runtime resizes through the controller, on the crowded host: exact figures.

The crowded host has 243 MB free (odd on purpose) and `app-static` runs with 6144 MB of
which its guest uses 5901 MB. The client's warning foresees the figure Hyper-V reaches,
and the controller reports exactly what was reached.
"""

from __future__ import annotations

from hvmem import controller
from hvmem.hyperv.channel import InProcessChannel
from hvmem.hyperv.client import HostClient
from hvmem.model import MemoryChange
from hvmem.sim.agent import SimAgent
from hvmem.sim.scenario import load_scenario


def resize_app_static(startup_mb: int) -> controller.ApplyResult:
    agent = SimAgent(load_scenario("crowded"))
    client = HostClient(InProcessChannel(agent.handle_line, "sim"), "HV-CROWDED")
    inventory = client.list()
    vm = next(vm for vm in inventory.vms if vm.name == "app-static")
    return controller.apply(client, vm, MemoryChange(startup_mb=startup_mb),
                            inventory.host, poll_interval=0.0)


def test_partial_add_reaches_the_free_memory_rounded_down_to_2mb() -> None:
    result = resize_app_static(8192)

    assert result.outcome == "partial"
    assert (result.assigned_after_mb, result.has_value("startup_mb")) == (6386, 6386)
    assert result.host_errors[0].error_id.startswith("OutOfMemory,")
    assert result.host_errors[0].hresult == 0x8007000E
    assert [w.rule for w in result.warnings] == ["host-free-memory"]
    assert "likely to add only about 242 MB: the VM would end up with about 6386 MB" in (
        result.warnings[0].message)
    assert result.summary().startswith("Asked for 8192 MB; the VM has 6386 MB now.")


def test_partial_remove_stops_at_what_the_guest_uses_rounded_up_to_2mb() -> None:
    result = resize_app_static(4096)

    assert result.outcome == "partial"
    assert (result.assigned_after_mb, result.has_value("startup_mb")) == (5902, 5902)
    assert result.host_errors[0].error_id.startswith("OperationFailed,")
    assert [w.rule for w in result.warnings] == ["guest-in-use"]
    assert ("The guest is using about 5901 MB, and Hyper-V removes only memory the guest "
            "does not use, so it is likely to remove only about 242 MB: the VM would keep "
            "about 5902 MB instead of the 4096 MB asked for") == result.warnings[0].message
    assert result.summary().startswith("Asked for 4096 MB; the VM has 5902 MB now.")


def test_full_add_within_the_free_memory_is_applied_exactly() -> None:
    result = resize_app_static(6144 + 242)

    assert result.outcome == "applied" and result.host_errors == []
    assert result.assigned_after_mb == 6386 and result.warnings == []
