"""Field cases F11, F12, F13 and broken agent records: what a host's agent may really send
(5.1 shapes, wrong types, missing fields, an answer with no id) reaches the user as the
right value or as a specific AGENT error naming the field, never a bare exception."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from hvmem.errors import ErrorKind, HvmemError
from hvmem.hyperv.channel import InProcessChannel
from hvmem.hyperv.client import HostClient, HostOperationError
from hvmem.hyperv.protocol import encode_answer, error_answer, ok_answer
from hvmem.hyperv.winrm_channel import WinrmChannel
from hvmem.sim.wsman import WsmanServer
from wsman_fakes import PASSWORD, USER, target_for

VM: dict[str, Any] = {
    "id": "3F1C2A4E-0000-4000-8000-000000000001", "name": "web01", "state": "Running",
    "state_value": 2, "status": "Operating normally", "generation": 2, "version": "9.0",
    "uptime_s": 5400, "cpu_percent": 1, "dynamic_memory": False,
    "startup_bytes": 2**31, "minimum_bytes": 2**29, "maximum_bytes": 2**40,
    "buffer_percent": 20, "weight": 50, "assigned_bytes": 2**31, "demand_bytes": 0,
    "memory_status": "", "nested_virtualization": False, "gpu_partition": False,
}
HOST: dict[str, Any] = {"name": "HV01", "total_bytes": 2**35, "available_bytes": 2**33}


def client_answering(answer: Callable[[dict[str, Any]], dict[str, Any]]) -> HostClient:
    def handle(line: str) -> str:
        return encode_answer(answer(json.loads(line)))
    return HostClient(InProcessChannel(handle, "fake"), "HV01", retry_reads=False)


def listing(vms: Any) -> HostClient:
    return client_answering(lambda r: ok_answer(r["id"], {"host": HOST, "vms": vms}))


def vm_with(**fields: Any) -> dict[str, Any]:
    record = {**VM, **fields}
    return {k: v for k, v in record.items() if v is not ...}


@pytest.mark.parametrize("vms, names", [
    (VM, ["web01"]),  # F11: one VM as an object, not a list
    (None, []),  # F11: no VMs written as nothing
    ([VM, vm_with(id="3F1C2A4E-0000-4000-8000-000000000002", name="b")], ["web01", "b"]),
])
def test_one_none_or_many_vms_give_that_many_rows(vms: Any, names: list[str]) -> None:
    client = client_answering(lambda r: ok_answer(r["id"], {"hyperv_admin": True})
                              if r["op"] == "hello"
                              else ok_answer(r["id"], {"host": HOST, "vms": vms}))
    assert [vm.name for vm in client.list().vms] == names


@pytest.mark.parametrize("state, name, running", [
    (2, "Running", True), (3, "Off", False), (6, "Saved", False), (9, "Paused", False),
    (32776, "State 32776", False), ("2", "Running", True), ("Running", "Running", True),
])
def test_states_as_numbers_are_named_and_unknown_ones_shown_raw(
        state: Any, name: str, running: bool) -> None:  # F12
    vm = listing([vm_with(state=state, state_value=...)]).list().vms[0]
    assert (vm.state, vm.is_running) == (name, running)


def test_a_missing_state_name_falls_back_to_its_number() -> None:
    vm = listing([vm_with(state=..., state_value=3)]).list().vms[0]
    assert vm.state == "Off"


def test_a_timespan_object_for_uptime_is_read_as_seconds() -> None:  # F13
    timespan = {"Ticks": 54000000000, "Days": 0, "Hours": 1, "Minutes": 30,
                "TotalSeconds": 5400.0, "TotalMinutes": 90.0}
    assert listing([vm_with(uptime_s=timespan)]).list().vms[0].uptime_s == 5400


def test_ids_in_upper_case_are_kept_as_lower_case_guids() -> None:
    assert listing([VM]).list().vms[0].id == "3f1c2a4e-0000-4000-8000-000000000001"


def test_exact_bytes_become_exact_mb_beyond_32_bits() -> None:  # F15 on the wire
    assert listing([VM]).list().vms[0].memory.maximum_mb == 1048576


@pytest.mark.parametrize("fields, named", [
    ({"startup_bytes": "4294967296"}, "startup_bytes"),
    ({"startup_bytes": 4294967296.5}, "startup_bytes"),
    ({"startup_bytes": -1048576}, "startup_bytes"),
    ({"startup_bytes": None}, "startup_bytes"),
    ({"startup_bytes": 2**63}, "startup_bytes"),
    ({"startup_bytes": True}, "startup_bytes"),
    ({"maximum_bytes": ...}, "maximum_bytes"),
    ({"dynamic_memory": "false"}, "dynamic_memory"),
    ({"dynamic_memory": 0}, "dynamic_memory"),
    ({"weight": None}, "weight"),
    ({"buffer_percent": 20.7}, "buffer_percent"),
    ({"nested_virtualization": "false"}, "nested_virtualization"),
    ({"assigned_bytes": -5}, "assigned_bytes"),
    ({"uptime_s": "1:30:00"}, "uptime_s"),
    ({"id": None}, "id"), ({"id": 5}, "id"), ({"id": "web01"}, "id"),
    ({"name": ...}, "name"),
    ({"state": {"value": 2}, "state_value": ...}, "state"),
])
def test_a_broken_vm_record_is_an_agent_error_naming_the_field(
        fields: dict[str, Any], named: str) -> None:
    with pytest.raises(HvmemError) as caught:
        listing([vm_with(**fields)]).list()
    assert caught.value.kind is ErrorKind.AGENT
    assert named in caught.value.details


@pytest.mark.parametrize("host, named", [
    ({**HOST, "total_bytes": "x"}, "total_bytes"),
    ({**HOST, "available_bytes": None}, "available_bytes"),
    ({**HOST, "available_bytes": -1}, "available_bytes"),
    ({**HOST, "name": None}, "name"),
    (None, "host"),
])
def test_a_broken_host_record_is_an_agent_error_naming_the_field(
        host: Any, named: str) -> None:
    client = client_answering(lambda r: ok_answer(r["id"], {"host": host, "vms": [VM]}))
    with pytest.raises(HvmemError) as caught:
        client.list()
    assert caught.value.kind is ErrorKind.AGENT and named in caught.value.details


@pytest.mark.parametrize("vms", [[1], "web01", [None]])
def test_vms_that_are_not_records_are_an_agent_error(vms: Any) -> None:
    with pytest.raises(HvmemError) as caught:
        listing(vms).list()
    assert caught.value.kind is ErrorKind.AGENT and "vms" in caught.value.details


@pytest.mark.parametrize("records", ["abc", [1], [None]])
def test_broken_error_records_are_an_agent_error(records: Any) -> None:
    client = client_answering(lambda r: error_answer(r["id"], "host", "m",
                                                     records=records))
    with pytest.raises(HvmemError) as caught:
        client.list()
    assert caught.value.kind is ErrorKind.AGENT and "record" in caught.value.details


def test_one_error_record_as_an_object_and_a_text_hresult_are_read() -> None:
    record = {"message": "Not enough memory in the system to start the virtual "
              "machine web01.", "error_id": "OutOfMemory,Microsoft.HyperV.PowerShell."
              "Commands.StartVM", "category": "", "hresult": "0x8007000E"}
    client = client_answering(lambda r: error_answer(r["id"], "host", "m",
                                                     records=record))
    with pytest.raises(HostOperationError) as caught:
        client.list()
    assert caught.value.records[0].hresult == 0x8007000E
    assert "Not enough memory in the system" in caught.value.details


def test_a_host_error_keeps_its_text_when_its_vm_record_is_broken() -> None:
    client = client_answering(lambda r: error_answer(
        r["id"], "host", "Failed to modify device 'Memory'.", vm={"id": "x"}))
    with pytest.raises(HostOperationError) as caught:
        client.list()
    assert caught.value.summary == "Failed to modify device 'Memory'."
    assert caught.value.vm_after is None and "unreadable" in caught.value.details


@pytest.mark.parametrize("field, value", [
    ("protocol", "one"), ("hyperv_admin", "false"), ("is_admin", 1)])
def test_a_broken_hello_is_an_agent_error(field: str, value: Any) -> None:
    client = client_answering(lambda r: ok_answer(r["id"], {field: value}))
    with pytest.raises(HvmemError) as caught:
        client.hello()
    assert caught.value.kind is ErrorKind.AGENT and field in caught.value.details


def null_id_failure(request: dict[str, Any]) -> dict[str, Any]:
    # The agent's last resort when it cannot answer a request: id null.
    return error_answer(None, "agent", "The agent failed to answer: out of memory")


def test_a_failure_without_an_id_reaches_the_user_in_process() -> None:
    with pytest.raises(HvmemError) as caught:
        client_answering(null_id_failure).list()
    assert caught.value.summary == "The agent failed to answer: out of memory"


class NullIdHandler:
    def handle_line(self, line: str) -> str:
        return encode_answer(null_id_failure(json.loads(line)))


def test_a_failure_without_an_id_reaches_the_user_over_winrm_not_a_timeout() -> None:
    server = WsmanServer(NullIdHandler, {USER: PASSWORD}, receive_wait=0.2).start()
    client = HostClient(WinrmChannel(target_for(server.url, agent_mode="persistent")),
                        "HV01", retry_reads=False)
    try:
        with pytest.raises(HvmemError) as caught:
            client.list()
    finally:
        client.close()
        server.stop()
    assert caught.value.kind is ErrorKind.AGENT
    assert "out of memory" in caught.value.summary


def test_an_answer_to_another_request_is_not_taken() -> None:
    client = client_answering(lambda r: ok_answer(r["id"] + 1, {"host": HOST,
                                                               "vms": [VM]}))
    with pytest.raises(HvmemError) as caught:
        client.list()
    assert caught.value.kind is ErrorKind.AGENT and "request 1" in caught.value.details
