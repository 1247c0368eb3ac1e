"""The simulator's clock: uptimes, and the living model's Dynamic Memory, step by step."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from hvmem.model import MIB
from hvmem.sim.agent import SimAgent
from hvmem.sim.host import SimHost
from hvmem.sim.living import memory_status
from hvmem.sim.scenario import host_from_data, load_scenario


def dm_vm(name: str, weight: int, in_use: int, assigned: int) -> dict[str, Any]:
    return {"name": name, "state": "Running", "generation": 2, "version": "10.0",
            "dynamic_memory": True, "startup_mb": 1024, "minimum_mb": 512,
            "maximum_mb": 16384, "buffer_percent": 20, "weight": weight,
            "assigned_mb": assigned,
            "guest": {"os": "Windows Server 2022", "hot_add": True, "hot_remove": True,
                      "in_use_mb": in_use}}


def still_host(total_mb: int, *vms: dict[str, Any]) -> SimHost:
    """A living host whose guests do not drift, so demand only moves when a test says."""
    host = host_from_data({"host": {"name": "HV", "total_mb": total_mb, "reserve_mb": 0,
                                    "locale": "en-US"}, "vms": list(vms)})
    host.living = True
    host.drift_percent_per_minute = 0
    return host


def test_uptime_advances_only_for_running_vms() -> None:
    host = load_scenario("desktop")
    before = {vm.name: vm.uptime_s for vm in host.vms()}

    host.advance(90)

    after = {vm.name: vm.uptime_s for vm in host.vms()}
    assert after["dev-win11"] == before["dev-win11"] + 90
    assert after["win10-paused"] == before["win10-paused"]
    record = host.vm_record(host.vms()[2])  # build-off
    assert record["uptime_s"] == 0 and host.clock_s == 90


def test_figures_stay_put_without_the_living_model() -> None:
    host = load_scenario("desktop")
    before = host.list_records()

    host.advance(3600)

    after = host.list_records()
    for old, new in zip(before["vms"], after["vms"], strict=True):
        assert (old["assigned_bytes"], old["demand_bytes"]) == (
            new["assigned_bytes"], new["demand_bytes"])


def test_dynamic_memory_follows_demand_plus_buffer() -> None:
    host = still_host(32768, dm_vm("a", 50, in_use=1000, assigned=1200))
    vm = host.vms()[0]

    vm.guest.in_use_mb = vm.demand_mb = 3000
    host.advance(10)
    grown = vm.assigned_mb
    vm.guest.in_use_mb = vm.demand_mb = 600
    host.advance(10)

    assert grown == 3600  # 3000 + 20 %
    assert vm.assigned_mb == 720


def test_weight_decides_under_scarcity() -> None:
    host = still_host(8192, dm_vm("light", 10, in_use=1000, assigned=1200),
                      dm_vm("heavy", 90, in_use=1000, assigned=1200))
    light, heavy = host.vms()
    for vm in (light, heavy):
        vm.guest.in_use_mb = vm.demand_mb = 5000

    host.advance(10)

    assert heavy.assigned_mb == 6000
    assert light.assigned_mb == 8192 - 6000 and host.available_mb() == 0
    assert (memory_status(heavy), memory_status(light)) == ("OK", "Warning")


@pytest.mark.parametrize(("assigned", "status"), [
    (1200, "OK"), (1170, "OK"), (1150, "Low"), (1000, "Low"), (998, "Warning"),
])
def test_memory_status_from_the_buffer_the_vm_has(assigned: int, status: str) -> None:
    host = still_host(32768, dm_vm("a", 50, in_use=1000, assigned=assigned))

    assert host.vm_record(host.vms()[0])["memory_status"] == status


def test_german_host_translates_memory_status() -> None:
    data = {"host": {"name": "HV", "total_mb": 32768, "reserve_mb": 0, "locale": "de-DE"},
            "vms": [dm_vm("a", 50, in_use=1000, assigned=1000)]}
    host = host_from_data(data)

    record = host.vm_record(host.vms()[0])

    assert (record["memory_status"], record["status"]) == ("Niedrig", "Normaler Betrieb")


def living_story(seed: int) -> list[tuple[int, int]]:
    host = load_scenario("desktop", seed=seed)
    host.living = True
    figures = []
    for _ in range(30):
        host.advance(20)
        figures += [(vm["assigned_bytes"], vm["demand_bytes"])
                    for vm in host.list_records()["vms"]]
    return figures


def test_the_living_model_is_deterministic_for_a_seed() -> None:
    assert living_story(5) == living_story(5)
    assert living_story(5) != living_story(6)


def test_living_model_keeps_memory_within_limits() -> None:
    host = load_scenario("desktop", seed=3)
    host.living = True

    for _ in range(50):
        host.advance(60)

    assert host.available_mb() >= 0
    for vm in host.vms():
        if vm.state == "Running" and vm.settings.dynamic:
            assert vm.settings.minimum_mb <= vm.assigned_mb <= vm.settings.maximum_mb
            assert vm.assigned_mb % 2 == 0
        elif vm.state == "Running":
            assert vm.assigned_mb == vm.settings.startup_mb >= vm.guest.in_use_mb


def test_advance_refuses_to_go_back() -> None:
    with pytest.raises(ValueError):
        load_scenario("desktop").advance(-1)


def test_records_carry_bytes_and_state_numbers() -> None:
    host = load_scenario("desktop")
    records = {vm["name"]: vm for vm in copy.deepcopy(host.list_records())["vms"]}

    assert records["web-dm"]["state_value"] == 2
    assert records["build-off"]["state_value"] == 3
    assert records["test-saved"]["state_value"] == 6
    assert records["dev-win11"]["assigned_bytes"] == 8192 * MIB
    assert records["test-saved"]["assigned_bytes"] == 0


def test_the_agent_catches_up_with_a_followed_clock() -> None:
    host = load_scenario("desktop")
    now = [1000.0]
    host.follow_wall_clock(lambda: now[0])
    agent = SimAgent(host)
    dev = next(vm for vm in host.vms() if vm.name == "dev-win11")
    start = dev.uptime_s

    now[0] += 42
    agent.handle({"id": 1, "op": "hello", "args": {}})
    now[0] += 8
    agent.handle({"id": 2, "op": "list", "args": {}})

    assert dev.uptime_s == start + 50 and host.clock_s == 50


def test_a_live_demo_host_moves_in_real_time() -> None:
    """The window's demo host lives: its clock follows the wall clock."""
    from hvmem.sim.demo import start_demo

    now = [0.0]
    with start_demo("desktop", live=True) as demo:
        assert demo.sim_host.living is True
        demo.sim_host.follow_wall_clock(lambda: now[0])
        client = demo.client()
        try:
            before = {vm.name: vm.uptime_s for vm in client.list().vms}
            now[0] = 90.0
            after = {vm.name: vm.uptime_s for vm in client.list().vms}
        finally:
            client.close()
    assert after["dev-win11"] == before["dev-win11"] + 90
