"""The simulator's memory rules, driven through SimAgent.handle like a client would."""

from __future__ import annotations

from typing import Any

import pytest

from hvmem.model import MIB
from hvmem.sim.agent import SimAgent
from hvmem.sim.rules import ALL_RULES, upper_bound_mb
from hvmem.sim.scenario import derive_vm_id, host_from_data

STATIC = {"dynamic_memory": False, "startup_mb": 4096, "minimum_mb": 512,
          "maximum_mb": 1048576, "buffer_percent": 20, "weight": 50}
DYNAMIC = {"dynamic_memory": True, "startup_mb": 2048, "minimum_mb": 1024,
           "maximum_mb": 8192, "buffer_percent": 20, "weight": 50}


def one_vm_agent(state: str, memory: dict[str, Any], **extra: Any) -> SimAgent:
    vm = {"name": "vm", "state": state, "generation": 2, "version": "10.0", **memory,
          "guest": {"os": "Windows 11", "hot_add": True, "hot_remove": True,
                    "in_use_mb": 1024 if state in ("Running", "Paused") else 0}}
    vm.update(extra)
    data = {"host": {"name": "HV", "total_mb": 65536, "reserve_mb": 2048,
                     "locale": "en-US"}, "vms": [vm]}
    return SimAgent(host_from_data(data))


def set_memory(agent: SimAgent, changes: dict[str, Any]) -> dict[str, Any]:
    vm = agent.handle({"id": 1, "op": "list", "args": {}})["result"]["vms"][0]
    expected = {key: vm[key] for key in ("state", "startup_bytes", "dynamic_memory",
                                         "minimum_bytes", "maximum_bytes",
                                         "buffer_percent", "weight")}
    wire = {key: value * MIB if key.endswith("_bytes") else value
            for key, value in changes.items()}
    return agent.handle({"id": 2, "op": "set_memory",
                         "args": {"vm_id": vm["id"], "changes": wire,
                                  "expected": expected}})


def rules_of(answer: dict[str, Any]) -> list[str]:
    if answer["ok"]:
        return []
    assert answer["error"]["kind"] == "host", answer
    return [record["rule"] for record in answer["error"]["records"]]


# (state, memory, extra VM keys, changes in MB, expected rule ids; [] = accepted)
MATRIX = [
    ("Off", STATIC, {}, {"startup_bytes": 6144}, []),
    ("Off", STATIC, {}, {"dynamic_memory": True, "minimum_bytes": 1024,
                         "maximum_bytes": 8192}, []),
    ("Off", STATIC, {}, {"startup_bytes": 4019}, ["align-2mb"]),
    ("Off", STATIC, {}, {"startup_bytes": 30}, ["min-32mb"]),
    ("Off", STATIC, {"generation": 1}, {"startup_bytes": 1048578}, ["max-bound"]),
    ("Off", STATIC, {}, {"startup_bytes": 1048578}, []),
    ("Off", STATIC, {}, {"minimum_bytes": 1024}, ["dm-required"]),
    ("Off", STATIC, {}, {"buffer_percent": 30}, ["dm-required"]),
    ("Off", STATIC, {}, {"weight": 101}, ["weight-range"]),
    ("Off", STATIC, {}, {"weight": 0}, []),
    ("Off", DYNAMIC, {}, {"minimum_bytes": 4096}, ["order-min-startup"]),
    ("Off", DYNAMIC, {}, {"maximum_bytes": 1024}, ["order-startup-max"]),
    ("Off", DYNAMIC, {}, {"startup_bytes": 4096, "maximum_bytes": 16384}, []),
    ("Off", DYNAMIC, {}, {"buffer_percent": 4}, ["buffer-range"]),
    ("Off", DYNAMIC, {}, {"buffer_percent": 2000}, []),
    ("Off", DYNAMIC, {}, {"maximum_bytes": 8193}, ["align-2mb"]),
    ("Off", DYNAMIC, {}, {"dynamic_memory": False, "startup_bytes": 3000}, []),
    ("Off", {**DYNAMIC, "minimum_mb": 2048}, {"gpu_partition": True},
     {"startup_bytes": 4096, "minimum_bytes": 4096}, []),
    ("Off", {**DYNAMIC, "minimum_mb": 2048}, {"gpu_partition": True},
     {"minimum_bytes": 1024}, ["gpu-startup-min"]),
    ("Running", STATIC, {}, {"startup_bytes": 6144}, []),
    ("Running", STATIC, {}, {"startup_bytes": 2048}, []),
    ("Running", STATIC, {}, {"dynamic_memory": True}, ["running-dm-toggle"]),
    ("Running", STATIC, {}, {"maximum_bytes": 8192}, ["dm-required"]),
    ("Running", STATIC, {}, {"weight": 70}, ["state-readonly"]),
    ("Running", STATIC, {"version": "6.2"}, {"startup_bytes": 6144}, []),
    ("Running", STATIC, {"version": "5.0"}, {"startup_bytes": 6144},
     ["runtime-resize-version"]),
    ("Running", STATIC, {"nested_virtualization": True}, {"startup_bytes": 6144},
     ["runtime-resize-nested"]),
    ("Running", STATIC, {}, {"startup_bytes": 6145}, ["align-2mb"]),
    ("Running", DYNAMIC, {}, {"maximum_bytes": 16384}, []),
    ("Running", DYNAMIC, {}, {"minimum_bytes": 512}, []),
    ("Running", DYNAMIC, {}, {"buffer_percent": 50, "weight": 90}, []),
    ("Running", DYNAMIC, {}, {"maximum_bytes": 4096}, ["running-dm-max-lower"]),
    ("Running", DYNAMIC, {}, {"minimum_bytes": 2048}, ["running-dm-min-raise"]),
    ("Running", DYNAMIC, {}, {"startup_bytes": 4096}, ["running-dm-startup"]),
    ("Running", DYNAMIC, {}, {"dynamic_memory": False}, ["running-dm-toggle"]),
    ("Running", DYNAMIC, {}, {"startup_bytes": 2048}, []),  # unchanged value
    ("Saved", STATIC, {}, {"startup_bytes": 6144}, ["state-readonly"]),
    ("Paused", DYNAMIC, {}, {"buffer_percent": 30}, ["state-readonly"]),
    ("Starting", STATIC, {}, {"weight": 10}, ["state-readonly"]),
    ("Saving", DYNAMIC, {}, {"maximum_bytes": 16384}, ["state-readonly"]),
]


@pytest.mark.parametrize(("state", "memory", "extra", "changes", "rules"), MATRIX)
def test_state_matrix(state: str, memory: dict[str, Any], extra: dict[str, Any],
                      changes: dict[str, Any], rules: list[str]) -> None:
    agent = one_vm_agent(state, memory, **extra)

    answer = set_memory(agent, changes)

    assert rules_of(answer) == rules
    if rules:
        assert set(rules) <= set(ALL_RULES)
        record = answer["error"]["records"][0]
        assert record["error_id"].endswith(",Microsoft.HyperV.PowerShell.Commands."
                                           "SetVMMemory")
        assert answer["error"]["vm"]["startup_bytes"] == memory["startup_mb"] * MIB


def test_refusal_changes_nothing_and_lists_every_broken_rule() -> None:
    agent = one_vm_agent("Off", DYNAMIC)

    answer = set_memory(agent, {"startup_bytes": 9001, "buffer_percent": 1})

    assert rules_of(answer) == ["align-2mb", "order-startup-max", "buffer-range"]
    assert answer["error"]["rules"] == rules_of(answer)
    vm = agent.handle({"id": 3, "op": "list", "args": {}})["result"]["vms"][0]
    assert vm["startup_bytes"] == 2048 * MIB and vm["buffer_percent"] == 20


@pytest.mark.parametrize(("rule", "error_id", "category"), [
    ("align-2mb", "InvalidParameter", "InvalidArgument"),
    ("running-dm-startup", "InvalidState", "InvalidOperation"),
])
def test_refusal_records_look_like_hyperv(rule: str, error_id: str,
                                           category: str) -> None:
    agent = one_vm_agent("Running", DYNAMIC)
    changes = {"maximum_bytes": 8193} if rule == "align-2mb" else {"startup_bytes": 4096}

    record = set_memory(agent, changes)["error"]["records"][0]

    assert record["error_id"].split(",")[0] == error_id
    assert record["category"] == category
    first, *details = record["message"].splitlines()
    assert first == "Failed to modify device 'Memory'."
    assert details and all(line.endswith(f"(Virtual machine ID {derive_vm_id('vm')})")
                           for line in details)


@pytest.mark.parametrize(("generation", "version", "bound"), [
    (1, "10.0", 1048576), (2, "7.1", 1048576), (2, "8.0", 12582912),
    (2, "9.1", 12582912), (2, "9.2", 251658240), (2, "12.0", 251658240),
])
def test_upper_bound_by_generation_and_version(generation: int, version: str,
                                               bound: int) -> None:
    assert upper_bound_mb(generation, version) == bound
