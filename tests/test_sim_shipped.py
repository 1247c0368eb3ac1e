"""The shipped scenarios beyond desktop: crowded, german and the generated hoster."""

from __future__ import annotations

from collections import Counter
from typing import Any

from hvmem import paths
from hvmem.model import MIB
from hvmem.sim.agent import SimAgent
from hvmem.sim.generate import generate_hoster, render
from hvmem.sim.records import SET_VM_MEMORY
from hvmem.sim.scenario import load_scenario

EXPECTED_KEYS = ("state", "startup_bytes", "dynamic_memory", "minimum_bytes",
                 "maximum_bytes", "buffer_percent", "weight")


def set_on(agent: SimAgent, name: str, changes: dict[str, Any]) -> dict[str, Any]:
    vms = agent.handle({"id": 1, "op": "list", "args": {}})["result"]["vms"]
    vm = next(vm for vm in vms if vm["name"] == name)
    args = {"vm_id": vm["id"], "changes": changes,
            "expected": {key: vm[key] for key in EXPECTED_KEYS}}
    return agent.handle({"id": 2, "op": "set_memory", "args": args})


def test_crowded_adds_only_the_free_memory_rounded_down_to_2mb() -> None:
    host = load_scenario("crowded")
    assert host.available_mb() == 243  # odd on purpose

    error = set_on(SimAgent(host), "app-static", {"startup_bytes": 8192 * MIB})["error"]

    assert error["rule"] == "host-free-memory"
    assert error["vm"]["startup_bytes"] == (6144 + 242) * MIB
    assert host.available_mb() == 1


def test_crowded_guest_nearly_full_gives_back_little() -> None:
    error = set_on(SimAgent(load_scenario("crowded")), "app-static",
                   {"startup_bytes": 4096 * MIB})["error"]

    assert error["rule"] == "guest-in-use"
    assert error["vm"]["assigned_bytes"] == 5902 * MIB  # guest uses 5901 MB


def test_german_host_speaks_german_but_keeps_english_ids() -> None:
    agent = SimAgent(load_scenario("german"))

    refused = set_on(agent, "Schulung", {"startup_bytes": 2048 * MIB})["error"]
    aligned = set_on(agent, "Entwicklung", {"maximum_bytes": 4097 * MIB})["error"]

    assert refused["error_id"] == f"InvalidState,{SET_VM_MEMORY}"
    first_line = refused["message"].splitlines()[0]
    assert first_line == 'Fehler beim Ändern des Geräts "Arbeitsspeicher".'
    assert "(ID des virtuellen Computers " in refused["message"]
    assert aligned["rule"] == "align-2mb" and "ausgerichtet" in aligned["message"]
    listing = agent.handle({"id": 3, "op": "list", "args": {}})["result"]
    assert listing["host"]["locale"] == "de-DE"
    assert {vm["status"] for vm in listing["vms"]} == {"Normaler Betrieb"}


def test_hoster_file_is_the_generators_output() -> None:
    path = paths.resources_dir() / "scenarios" / "hoster.json"

    assert path.read_text(encoding="utf-8") == render(generate_hoster())
    assert generate_hoster() == generate_hoster()


def test_hoster_has_a_varied_crowd_with_repeated_names() -> None:
    host = load_scenario("hoster")
    vms = host.vms()
    names = Counter(vm.name for vm in vms)

    assert len(vms) == 200 and host.total_mb == 524288 and host.available_mb() > 0
    assert {vm.generation for vm in vms} == {1, 2}
    assert len({vm.version for vm in vms}) >= 5 and len({vm.state for vm in vms}) >= 5
    assert any(vm.settings.dynamic for vm in vms) and any(vm.gpu_partition for vm in vms)
    assert names["web01"] == 2 and {"db[1]", "Bob's VM", "测试"} <= set(names)
    assert len({vm.id for vm in vms}) == 200
