"""One edit through the controller against a fake host: each outcome, sent once."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from hvmem.controller import ApplyResult, apply
from hvmem.errors import ErrorKind, HvmemError
from hvmem.hyperv.client import ConflictError, HostOperationError
from hvmem.hyperv.protocol import AgentFailure, ErrorRecord
from hvmem.model import HostSnapshot, MemoryChange, MemorySettings, VmSnapshot

HOST = HostSnapshot("HV01", total_mb=32768, available_mb=6144)
STATIC = MemorySettings(4096, False, 512, 1048576, 20, 50)
DYNAMIC = MemorySettings(2048, True, 512, 1048576, 20, 50)
OOM = ErrorRecord(
    "Failed to modify device 'Memory'.\nNot enough memory in the system.",
    "OutOfMemory,Microsoft.HyperV.PowerShell.Commands.SetVMMemory", "FromStdErr",
    0x8007000E,
)


def make_vm(memory: MemorySettings = STATIC, state: str = "Running",
            assigned: int | None = None) -> VmSnapshot:
    return VmSnapshot(
        id="3f1c2a4e-0000-4000-8000-000000000001", name="lin01", state=state,
        generation=2, version="9.0", memory=memory,
        assigned_mb=memory.startup_mb if assigned is None else assigned,
        demand_mb=1024, memory_status="", cpu_percent=1, uptime_s=60, status="",
    )


class FakeClient:
    """Answers set_memory with `on_set` and get_vm with `reads`, in order."""

    name = "HV01"

    def __init__(self, on_set: VmSnapshot | Exception,
                 reads: list[VmSnapshot | Exception]) -> None:
        self.on_set = on_set
        self.reads = list(reads)
        self.sent: list[tuple[VmSnapshot, MemoryChange]] = []
        self.read_count = 0

    def set_memory(self, vm: VmSnapshot, change: MemoryChange) -> VmSnapshot:
        self.sent.append((vm, change))
        if isinstance(self.on_set, Exception):
            raise self.on_set
        return self.on_set

    def get_vm(self, vm_id: str) -> tuple[HostSnapshot, VmSnapshot]:
        self.read_count += 1
        item = self.reads.pop(0) if len(self.reads) > 1 else self.reads[0]
        if isinstance(item, Exception):
            raise item
        return HOST, item


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def run(client: FakeClient, vm: VmSnapshot, change: MemoryChange,
        fake_time: FakeTime | None = None, **kw: Any) -> ApplyResult:
    fake_time = fake_time or FakeTime()
    return apply(client, vm, change, HOST,  # type: ignore[arg-type]
                 sleep=fake_time.sleep, clock=fake_time.clock, **kw)


def test_unchanged_sends_nothing() -> None:
    client = FakeClient(make_vm(), [make_vm()])

    result = run(client, make_vm(), MemoryChange(startup_mb=4096, weight=50))
    empty = run(client, make_vm(), MemoryChange())

    assert result.outcome == empty.outcome == "unchanged"
    assert client.sent == [] and client.read_count == 0
    assert "nothing was sent" in result.summary()


def test_rejected_sends_nothing_and_keeps_the_reasons() -> None:
    vm = make_vm(DYNAMIC)
    client = FakeClient(vm, [vm])

    result = run(client, vm, MemoryChange(dynamic=False))

    assert result.outcome == "rejected"
    assert [f.rule for f in result.reasons] == ["running-dm-toggle"]
    assert client.sent == []
    assert result.summary().startswith("Not sent: [running-dm-toggle] ")
    assert "Shut down the VM" in result.summary()


def test_applied_sends_only_the_changed_settings_once() -> None:
    vm = make_vm(DYNAMIC)
    done = make_vm(replace(DYNAMIC, maximum_mb=2097152))
    client = FakeClient(done, [done])

    result = run(client, vm, MemoryChange(maximum_mb=2097152, weight=50))

    assert result.outcome == "applied"
    assert client.sent == [(vm, MemoryChange(maximum_mb=2097152))]
    assert result.after == done.memory
    assert "Maximum RAM 2097152 MB" in result.summary()


def test_runtime_resize_waits_until_assigned_memory_settles() -> None:
    vm = make_vm()
    asked = replace(STATIC, startup_mb=6144)
    moving = [make_vm(asked, assigned=4096), make_vm(asked, assigned=5120),
              make_vm(asked, assigned=6144), make_vm(asked, assigned=6144)]
    client = FakeClient(moving[0], list(moving))
    fake_time = FakeTime()

    result = run(client, vm, MemoryChange(startup_mb=6144), fake_time)

    assert result.outcome == "applied"
    assert result.assigned_after_mb == 6144
    assert client.read_count == 4
    assert len(client.sent) == 1
    assert fake_time.sleeps == [0.25, 0.25, 0.25]


def test_settling_gives_up_after_the_timeout_and_reports_partial() -> None:
    """F19: Hyper-V keeps Startup 16384 but the VM only ever gets 10240 MB."""
    vm = make_vm()
    stuck = make_vm(replace(STATIC, startup_mb=16384), assigned=10240)
    client = FakeClient(stuck, [stuck])
    fake_time = FakeTime()

    result = run(client, vm, MemoryChange(startup_mb=16384), fake_time,
                 settle_timeout=2.0, poll_interval=0.5)

    assert result.outcome == "partial"
    assert fake_time.now <= 2.0
    assert client.read_count == 5  # at 0, 0.5, 1.0, 1.5 and 2.0 s
    assert len(client.sent) == 1
    assert result.summary().startswith("Asked for 16384 MB; the VM has 10240 MB now.")
    assert [w.rule for w in result.warnings] == ["host-free-memory"]


def test_host_error_with_memory_moved_is_partial_and_keeps_the_records() -> None:
    vm = make_vm()
    after = make_vm(replace(STATIC, startup_mb=10240), assigned=10240)
    failure = AgentFailure("host", OOM.message, records=(OOM,))
    client = FakeClient(HostOperationError(failure, after, "HV01"), [after])

    result = run(client, vm, MemoryChange(startup_mb=16384))

    assert result.outcome == "partial"
    assert result.host_errors == [OOM]
    assert result.summary() == ("Asked for 16384 MB; the VM has 10240 MB now. "
                                "Hyper-V: Failed to modify device 'Memory'. "
                                "Not enough memory in the system.")
    assert [(r.rule, r.field) for r in result.reasons] == [
        ("host-free-memory", "startup_mb")]
    assert result.to_json()["host_errors"][0]["hresult"] == 0x8007000E
    assert len(client.sent) == 1


def test_host_error_with_nothing_moved_is_refused() -> None:
    vm = make_vm(DYNAMIC, state="Off", assigned=0)
    failure = AgentFailure("host", OOM.message, records=(OOM,))
    client = FakeClient(HostOperationError(failure, vm, "HV01"), [vm])

    result = run(client, vm, MemoryChange(startup_mb=4096))

    assert result.outcome == "refused"
    assert "Hyper-V did not change lin01" in result.summary()
    assert client.read_count == 1


def test_conflict_reports_the_current_values() -> None:
    vm = make_vm(DYNAMIC)
    current = make_vm(replace(DYNAMIC, maximum_mb=8192))
    client = FakeClient(ConflictError("lin01 changed", current, "HV01"), [current])

    result = run(client, vm, MemoryChange(maximum_mb=2097152))

    assert result.outcome == "conflict"
    assert result.after == current.memory
    assert isinstance(result.error, ConflictError)
    assert len(client.sent) == 1


@pytest.mark.parametrize("kind", [ErrorKind.TIMEOUT, ErrorKind.UNREACHABLE,
                                  ErrorKind.WSMAN_FAULT, ErrorKind.AGENT])
def test_lost_connection_reads_back_once_and_never_resends(kind: ErrorKind) -> None:
    vm = make_vm(DYNAMIC)
    landed = make_vm(replace(DYNAMIC, maximum_mb=2097152))
    client = FakeClient(HvmemError(kind, "HV01 did not answer"), [landed])

    result = run(client, vm, MemoryChange(maximum_mb=2097152))

    assert result.outcome == "applied"
    assert "connection failed" in result.summary()
    assert len(client.sent) == 1 and client.read_count == 1


def test_lost_connection_and_failed_read_is_unknown() -> None:
    vm = make_vm(DYNAMIC)
    down = HvmemError(ErrorKind.UNREACHABLE, "HV01 is unreachable")
    client = FakeClient(down, [down])

    result = run(client, vm, MemoryChange(maximum_mb=2097152))

    assert result.outcome == "unknown"
    assert result.after is None and result.error is down
    assert len(client.sent) == 1 and client.read_count == 1
    assert "not known" in result.summary()


def test_not_found_is_refused_without_a_read() -> None:
    vm = make_vm(DYNAMIC)
    client = FakeClient(HvmemError(ErrorKind.NOT_FOUND, "lin01 no longer exists"), [vm])

    result = run(client, vm, MemoryChange(maximum_mb=2097152))

    assert result.outcome == "refused"
    assert client.read_count == 0
    assert "lin01 no longer exists" in result.summary()


def test_one_tb_maximum_round_trips_exactly_in_json() -> None:
    vm = make_vm(replace(DYNAMIC, maximum_mb=8192), state="Off", assigned=0)
    done = replace(vm, memory=DYNAMIC)
    client = FakeClient(done, [done])

    result = run(client, vm, MemoryChange(maximum_mb=1048576))

    assert result.outcome == "applied"
    assert result.to_json()["after"]["maximum_mb"] == 1048576
    assert result.to_json()["requested"] == {
        "dynamic_memory": True, "startup_mb": 2048, "minimum_mb": 512,
        "maximum_mb": 1048576, "buffer_percent": 20, "weight": 50}


def test_through_a_real_host_client_one_set_memory_line_is_sent() -> None:
    """The controller drives HostClient over the agent protocol's own framing."""
    import json

    from hvmem.hyperv.channel import InProcessChannel
    from hvmem.hyperv.client import HostClient
    from hvmem.hyperv.protocol import encode_answer, ok_answer

    vm_wire = {
        "id": "3f1c2a4e-0000-4000-8000-000000000001", "name": "lin01", "state": "Off",
        "generation": 2, "version": "9.0", "dynamic_memory": True,
        "startup_bytes": 2048 << 20, "minimum_bytes": 512 << 20,
        "maximum_bytes": 8192 << 20, "buffer_percent": 20, "weight": 50,
        "assigned_bytes": 0, "demand_bytes": 0,
    }
    host_wire = {"name": "HV01", "total_bytes": 32768 << 20,
                 "available_bytes": 6144 << 20}
    ops: list[str] = []

    def handle_line(line: str) -> str:
        request = json.loads(line)
        ops.append(request["op"])
        if request["op"] == "set_memory":
            vm_wire.update(request["args"]["changes"])
            return encode_answer(ok_answer(request["id"], {"vm": vm_wire}))
        return encode_answer(ok_answer(request["id"], {"host": host_wire, "vm": vm_wire}))

    client = HostClient(InProcessChannel(handle_line, "fake"), "HV01")
    _, vm = client.get_vm("3f1c2a4e-0000-4000-8000-000000000001")

    result = apply(client, vm, MemoryChange(maximum_mb=1048576))

    assert result.outcome == "applied"
    assert ops == ["get_vm", "set_memory", "get_vm"]
    assert vm_wire["maximum_bytes"] == 1099511627776


def test_a_conflict_on_state_alone_names_the_states() -> None:
    vm = make_vm(DYNAMIC)
    stopped = make_vm(DYNAMIC, state="Off", assigned=0)
    client = FakeClient(ConflictError("lin01 changed", stopped, "HV01"), [stopped])

    result = run(client, vm, MemoryChange(maximum_mb=2097152))

    assert result.outcome == "conflict"
    assert (result.state_before, result.state_after) == (vm.state, "Off")
    assert result.state_changed and result.after == result.before
    assert f"(it was {vm.state}, it is Off now)" in result.summary()
