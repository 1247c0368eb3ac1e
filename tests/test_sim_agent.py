"""SimAgent on the desktop scenario: resizes, guards, bad input, answer lines."""

from __future__ import annotations

import io
import json
import threading
from typing import Any

import pytest

from hvmem.hyperv.channel import InProcessChannel
from hvmem.hyperv.client import ConflictError, HostClient, HostOperationError
from hvmem.hyperv.protocol import MARKER, LineDecoder
from hvmem.model import MIB, MemoryChange
from hvmem.sim.agent import SimAgent, run_stdio
from hvmem.sim.messages import Texts
from hvmem.sim.records import GET_VM, SET_VM_MEMORY
from hvmem.sim.scenario import load_scenario

EXPECTED_KEYS = ("state", "startup_bytes", "dynamic_memory", "minimum_bytes",
                 "maximum_bytes", "buffer_percent", "weight")


@pytest.fixture
def agent() -> SimAgent:
    return SimAgent(load_scenario("desktop"))


def vm_named(agent: SimAgent, name: str) -> dict[str, Any]:
    vms = agent.handle({"id": 0, "op": "list", "args": {}})["result"]["vms"]
    return next(vm for vm in vms if vm["name"] == name)


def available_mb(agent: SimAgent) -> int:
    host = agent.handle({"id": 0, "op": "list", "args": {}})["result"]["host"]
    return int(host["available_bytes"]) // MIB


def resize(agent: SimAgent, name: str, startup_mb: int) -> dict[str, Any]:
    vm = vm_named(agent, name)
    args = {"vm_id": vm["id"], "changes": {"startup_bytes": startup_mb * MIB},
            "expected": {key: vm[key] for key in EXPECTED_KEYS}}
    return agent.handle({"id": 7, "op": "set_memory", "args": args})


def test_hello_says_simulated(agent: SimAgent) -> None:
    result = agent.handle({"id": 1, "op": "hello", "args": {}})["result"]

    assert result["simulated"] is True and result["host_name"] == "DESKTOP-HV"
    assert result["protocol"] == 1 and "(simulated)" in result["ps_version"]


def test_full_add_and_remove_on_a_capable_guest(agent: SimAgent) -> None:
    free = available_mb(agent)

    grown = resize(agent, "dev-win11", 10240)
    shrunk = resize(agent, "dev-win11", 6144)

    assert grown["result"]["vm"]["assigned_bytes"] == 10240 * MIB
    assert shrunk["result"]["vm"]["startup_bytes"] == 6144 * MIB
    assert available_mb(agent) == free + 2048


def test_partial_add_gives_what_the_host_has(agent: SimAgent) -> None:
    free = available_mb(agent)
    assert free < 8192 and free % 2 == 0

    answer = resize(agent, "dev-win11", 16384)

    error = answer["error"]
    achieved = 8192 + free // 2 * 2
    assert error["kind"] == "host" and error["rule"] == "host-free-memory"
    assert error["error_id"] == f"OutOfMemory,{SET_VM_MEMORY}"
    assert error["hresult"] == 0x8007000E
    assert error["vm"]["assigned_bytes"] == achieved * MIB
    assert error["vm"]["startup_bytes"] == achieved * MIB
    assert error["records"][0]["achieved_bytes"] == achieved * MIB
    assert available_mb(agent) == 0


def test_partial_remove_stops_at_what_the_guest_uses(agent: SimAgent) -> None:
    agent.host.find(vm_named(agent, "dev-win11")["id"]).guest.in_use_mb = 5121

    error = resize(agent, "dev-win11", 2048)["error"]

    assert error["rule"] == "guest-in-use"
    assert error["vm"]["assigned_bytes"] == 5122 * MIB  # 5121 rounded up to 2 MB
    assert vm_named(agent, "dev-win11")["startup_bytes"] == 5122 * MIB


@pytest.mark.parametrize(("name", "startup_mb", "rule", "assigned_mb"), [
    ("ubuntu-lts", 2048, "guest-no-hot-remove", 4096),
    ("ubuntu-lts", 6144, None, 6144),
])
def test_linux_guest_adds_but_does_not_remove(agent: SimAgent, name: str,
                                              startup_mb: int, rule: str | None,
                                              assigned_mb: int) -> None:
    answer = resize(agent, name, startup_mb)

    vm = answer["result"]["vm"] if answer["ok"] else answer["error"]["vm"]
    assert (None if answer["ok"] else answer["error"]["rule"]) == rule
    assert vm["assigned_bytes"] == vm["startup_bytes"] == assigned_mb * MIB


def test_old_config_version_refuses_runtime_resize(agent: SimAgent) -> None:
    error = resize(agent, "legacy-2012r2", 4096)["error"]

    assert error["rule"] == "runtime-resize-version"
    assert error["vm"]["startup_bytes"] == 2048 * MIB


def test_guest_without_hot_add_gets_a_host_error() -> None:
    host = load_scenario("desktop")
    legacy = next(vm for vm in host.vms() if vm.name == "legacy-2012r2")
    legacy.version = "9.0"  # new enough for the host, but the guest still cannot add
    agent = SimAgent(host)

    error = resize(agent, "legacy-2012r2", 4096)["error"]

    assert (error["kind"], error["rule"]) == ("host", "guest-no-hot-add")
    assert error["vm"]["assigned_bytes"] == 2048 * MIB


def test_conflict_when_the_vm_moved(agent: SimAgent) -> None:
    vm = vm_named(agent, "web-dm")
    expected = {key: vm[key] for key in EXPECTED_KEYS}
    expected["maximum_bytes"] = 4096 * MIB
    args = {"vm_id": vm["id"], "changes": {"buffer_percent": 40}, "expected": expected}

    error = agent.handle({"id": 3, "op": "set_memory", "args": args})["error"]

    assert error["kind"] == "conflict" and error["moved"] == ["maximum_bytes"]
    assert error["current"]["maximum_bytes"] == 8192 * MIB
    assert vm_named(agent, "web-dm")["buffer_percent"] == 20


@pytest.mark.parametrize("op", ["get_vm", "set_memory"])
def test_unknown_vm_is_not_found(agent: SimAgent, op: str) -> None:
    vm = vm_named(agent, "web-dm")
    args = {"vm_id": "00000000-0000-4000-8000-000000000000", "changes": {},
            "expected": {key: vm[key] for key in EXPECTED_KEYS}}

    error = agent.handle({"id": 4, "op": op, "args": args})["error"]

    assert error["kind"] == "not_found"
    assert error["error_id"] == f"InvalidParameter,{GET_VM}"
    assert "00000000-0000-4000-8000-000000000000" in error["message"]


# (argument left out, changes, the word the message must name)
BAD_SET_ARGS = [
    ("vm_id", {}, "vm_id"),
    ("expected", {"startup_bytes": 1024}, "expected"),
    (None, {"startup_bytes": 1.5}, "startup_bytes"),
    (None, {"startup_bytes": "4GB"}, "startup_bytes"),
    (None, {"startup_bytes": -2}, "startup_bytes"),
    (None, {"startup_bytes": 2**63}, "startup_bytes"),
    (None, {"dynamic_memory": 1}, "dynamic_memory"),
    (None, {"weight": True}, "weight"),
    (None, {"memory": 1}, "unknown changes: memory"),
    (None, [], "changes"),
]


@pytest.mark.parametrize(("left_out", "changes", "named"), BAD_SET_ARGS)
def test_bad_set_memory_arguments(agent: SimAgent, left_out: str | None, changes: Any,
                                  named: str) -> None:
    vm = vm_named(agent, "build-off")
    args = {"vm_id": vm["id"], "changes": changes,
            "expected": {key: vm[key] for key in EXPECTED_KEYS}}
    args.pop(left_out or "", None)

    answer = agent.handle({"id": 5, "op": "set_memory", "args": args})

    assert answer["id"] == 5 and answer["error"]["kind"] == "bad_request"
    assert named in answer["error"]["message"]


def test_bytes_that_are_not_whole_mb_are_truncated(agent: SimAgent) -> None:
    vm = vm_named(agent, "build-off")
    args = {"vm_id": vm["id"], "changes": {"startup_bytes": 6144 * MIB + 12345},
            "expected": {key: vm[key] for key in EXPECTED_KEYS}}

    answer = agent.handle({"id": 6, "op": "set_memory", "args": args})

    assert answer["result"]["vm"]["startup_bytes"] == 6144 * MIB


@pytest.mark.parametrize("line", ["", "not json", "[1,2]", '{"id": 9, "op": 3}',
                                  '{"id": 9, "op": "reboot"}', '{"id": 9, "op": "list",'
                                  ' "args": []}'])
def test_garbage_lines_get_bad_request_answers(agent: SimAgent, line: str) -> None:
    out = agent.handle_line(line)

    assert out.startswith(MARKER) and "\n" not in out
    assert json.loads(out[len(MARKER):])["error"]["kind"] == "bad_request"


def test_a_bom_before_the_first_request_is_ignored(agent: SimAgent) -> None:
    out = agent.handle_line('\ufeff{"id": 1, "op": "hello", "args": {}}')

    assert json.loads(out[len(MARKER):])["ok"] is True


def test_answers_travel_through_the_protocol_decoder(agent: SimAgent) -> None:
    decoder = LineDecoder()
    line = agent.handle_line('{"id": 11, "op": "get_vm", "args": {"vm_id": "%s"}}'
                             % vm_named(agent, "Café-DB")["id"])

    (answer,) = decoder.feed((line + "\n").encode("utf-8"))

    assert answer["id"] == 11 and answer["result"]["vm"]["name"] == "Café-DB"


def test_run_stdio_answers_each_line() -> None:
    agent = SimAgent(load_scenario("desktop"))
    stdin = io.StringIO('{"id": 1, "op": "hello", "args": {}}\n\nnope\n'
                        '{"id": 2, "op": "list", "args": {}}\n')
    stdout = io.StringIO()

    assert run_stdio(agent, stdin, stdout) == 0

    lines = stdout.getvalue().splitlines()
    assert len(lines) == 3 and all(line.startswith(MARKER) for line in lines)
    assert [json.loads(line[len(MARKER):])["ok"] for line in lines] == [True, False, True]


def test_without_hyperv_rights_only_hello_works() -> None:
    agent = SimAgent(load_scenario("desktop"), hyperv_admin=False)

    hello = agent.handle({"id": 1, "op": "hello", "args": {}})["result"]
    listing = agent.handle({"id": 2, "op": "list", "args": {}})

    assert hello["hyperv_admin"] is False
    assert listing["error"]["kind"] == "no_rights"


def test_host_client_sees_partial_result_and_conflict() -> None:
    agent = SimAgent(load_scenario("desktop"))
    client = HostClient(InProcessChannel(agent.handle_line, "sim"), "DESKTOP-HV")
    dev = next(vm for vm in client.list().vms if vm.name == "dev-win11")

    with pytest.raises(HostOperationError) as partial:
        client.set_memory(dev, MemoryChange(startup_mb=32768))
    with pytest.raises(ConflictError):
        client.set_memory(dev, MemoryChange(startup_mb=8192))

    assert partial.value.vm_after is not None
    assert 8192 < partial.value.vm_after.assigned_mb < 32768


def test_many_threads_keep_the_host_consistent() -> None:
    host = load_scenario("desktop")
    agent = SimAgent(host)
    names = ["dev-win11", "ubuntu-lts", "nested-lab"]
    ids = {name: vm_named(agent, name)["id"] for name in names}

    def churn(name: str) -> None:
        for size in [6144, 4096, 5120, 4096] * 10:
            vm = agent.handle({"id": 1, "op": "get_vm", "args": {"vm_id": ids[name]}})
            record = vm["result"]["vm"]
            agent.handle({"id": 2, "op": "set_memory", "args": {
                "vm_id": ids[name], "changes": {"startup_bytes": size * MIB},
                "expected": {key: record[key] for key in EXPECTED_KEYS}}})

    threads = [threading.Thread(target=churn, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    held = sum(vm.assigned_mb for vm in host.vms() if vm.holds_memory)
    assert host.available_mb() == host.total_mb - host.reserve_mb - held
    final = {name: vm_named(agent, name) for name in names}
    assert final["dev-win11"]["startup_bytes"] == 5120 * MIB  # its guest uses 5120
    assert all(vm["startup_bytes"] == vm["assigned_bytes"] for vm in final.values())


def test_scenario_texts_override_the_language_table() -> None:
    host = load_scenario("desktop")
    host.texts = Texts("en-US", {"status.normal": "Running fine"})

    assert vm_named(SimAgent(host), "web-dm")["status"] == "Running fine"
