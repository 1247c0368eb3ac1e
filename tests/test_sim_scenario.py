"""Scenario files: the shipped ones load, ids are stable, and each bad field is named."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from hvmem.sim.scenario import (
    ScenarioError,
    derive_vm_id,
    host_from_data,
    load_scenario,
    scenario_names,
)

GOOD: dict[str, Any] = {
    "host": {"name": "HV", "total_mb": 16384, "reserve_mb": 2048, "locale": "en-US"},
    "vms": [
        {"name": "a", "state": "Running", "generation": 2, "version": "10.0",
         "dynamic_memory": False, "startup_mb": 4096, "minimum_mb": 512,
         "maximum_mb": 1048576, "buffer_percent": 20, "weight": 50,
         "guest": {"os": "Windows 11", "hot_add": True, "hot_remove": True,
                   "in_use_mb": 2000}},
        {"name": "b", "state": "Off", "generation": 1, "version": "5.0",
         "dynamic_memory": True, "startup_mb": 2048, "minimum_mb": 512,
         "maximum_mb": 4096, "buffer_percent": 20, "weight": 50,
         "guest": {"os": "Windows Server 2012 R2", "hot_add": False,
                   "hot_remove": False, "in_use_mb": 0}},
    ],
}


def with_value(path: str, value: Any) -> dict[str, Any]:
    """GOOD with the value at a dotted path (list indexes as numbers) set or deleted."""
    data = copy.deepcopy(GOOD)
    *parents, last = path.split(".")
    node: Any = data
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return data


DELETE = object()

# (dotted path, bad value, words the error must contain)
BAD_FIELDS = [
    ("vms.1.startup_mb", 4019, "vms[1].startup_mb: 4019 is not a multiple of 2 MB"),
    ("vms.0.startup_mb", 16, "vms[0].startup_mb: 16 is below 32 MB"),
    ("vms.1.maximum_mb", 1048578, "vms[1].maximum_mb: 1048578 is above"),
    ("vms.1.minimum_mb", 3072, "vms[1].minimum_mb: 3072 is above startup_mb"),
    ("vms.1.buffer_percent", 1, "vms[1].buffer_percent: 1 is outside 5..2000"),
    ("vms.0.weight", 101, "vms[0].weight: 101 is outside 0..100"),
    ("vms.0.state", "Sleeping", "vms[0].state: 'Sleeping' is not a Get-VM state"),
    ("vms.0.generation", 3, "vms[0].generation: 3 is not 1 or 2"),
    ("vms.0.version", "ten", "vms[0].version: 'ten'"),
    ("vms.0.name", DELETE, "vms[0].name: missing"),
    ("vms.0.guest.hot_add", DELETE, "vms[0].guest.hot_add: missing"),
    ("vms.0.startup_mb", "4096", "vms[0].startup_mb: '4096' is not an integer"),
    ("vms.0.startup_mb", True, "vms[0].startup_mb: True is not an integer"),
    ("vms.0.dynamic_memory", "no", "vms[0].dynamic_memory: 'no' is not true or false"),
    ("vms.0.id", "not-a-guid", "vms[0].id: 'not-a-guid' is not a GUID"),
    ("vms.0.assigned_mb", 2048, "vms[0].assigned_mb: 2048 is not an even value"),
    ("vms.0.guest.in_use_mb", 5000, "vms[0].guest.in_use_mb: 5000 is above"),
    ("vms.1.assigned_mb", 1024, "vms[1].assigned_mb: 1024, but a VM in state Off"),
    ("host.total_mb", 0, "host.total_mb: 0 must be positive"),
    ("host.reserve_mb", 16384, "host.reserve_mb: 16384"),
    ("host.locale", DELETE, "host.locale: missing"),
    ("host.texts", {"status.normal": 1}, "host.texts.status.normal: 1 is not a string"),
    ("vms", {}, "vms: {} is not a list"),
    ("host.total_mb", 4096, "vms: running VMs hold 4096 MB"),
]


@pytest.mark.parametrize(("path", "value", "message"), BAD_FIELDS)
def test_bad_field_is_named(path: str, value: Any, message: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        host_from_data(with_value(path, value))

    assert message in caught.value.summary


def test_duplicate_ids_are_refused() -> None:
    data = copy.deepcopy(GOOD)
    data["vms"][1]["id"] = derive_vm_id("a").upper()

    with pytest.raises(ScenarioError, match=r"vms\[1\]\.id: duplicate id .* vms\[0\]"):
        host_from_data(data)


def test_bad_json_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "host": {\n    "name": "x",,\n', encoding="utf-8")

    with pytest.raises(ScenarioError, match=r"broken\.json: not valid JSON at line 3"):
        load_scenario(str(path))


def test_unknown_scenario_lists_the_known_ones() -> None:
    with pytest.raises(ScenarioError, match="known: .*desktop"):
        load_scenario("nosuch")


def test_ids_are_derived_from_names_and_stable() -> None:
    first = host_from_data(GOOD).vms()
    second = host_from_data(copy.deepcopy(GOOD)).vms()

    assert [vm.id for vm in first] == [vm.id for vm in second]
    assert first[0].id == derive_vm_id("a") != derive_vm_id("b")
    assert derive_vm_id("dev-win11") == "b6b65511-7010-5541-9a64-8e73dc62b641"


@pytest.mark.parametrize("name", scenario_names())
def test_every_shipped_scenario_loads(name: str) -> None:
    host = load_scenario(name)

    assert host.vms() and 0 <= host.available_mb() < host.total_mb


def test_desktop_has_the_cases_the_brief_names() -> None:
    host = load_scenario("desktop")
    by_name = {vm.name: vm for vm in host.vms()}
    running_static = [vm for vm in host.vms()
                      if vm.state == "Running" and not vm.settings.dynamic]

    assert host.total_mb == 32768 and host.available_mb() > 0
    assert {"Running", "Off", "Saved"} <= {vm.state for vm in host.vms()}
    assert by_name["dev-win11"].guest.hot_remove and by_name["web-dm"].settings.dynamic
    assert not by_name["legacy-2012r2"].guest.hot_add
    linux = by_name["ubuntu-lts"].guest
    assert linux.hot_add and not linux.hot_remove
    assert len(running_static) >= 3


def test_seed_argument_overrides_the_file() -> None:
    assert load_scenario("desktop").seed == 1
    assert load_scenario("desktop", seed=99).seed == 99


def test_scenario_json_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(GOOD), encoding="utf-8")

    host = load_scenario(str(path))

    assert [vm.name for vm in host.vms()] == ["a", "b"]
    assert host.available_mb() == 16384 - 2048 - 4096
