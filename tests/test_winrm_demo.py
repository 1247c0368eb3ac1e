"""The demo host end to end: scenario -> SimAgent -> loopback WinRM -> HostClient."""

from __future__ import annotations

from hvmem.model import MemoryChange
from hvmem.sim.demo import start_demo


def test_demo_host_serves_the_scenario_over_winrm() -> None:
    with start_demo("desktop", seed=1) as demo:
        client = demo.client()
        hello = client.hello()
        inventory = client.list()
        client.close()
        stats = demo.server.stats

    assert hello.simulated is True
    assert {vm.name for vm in inventory.vms} >= {"Café-DB", "web-dm"}
    assert inventory.host.name == demo.sim_host.name
    assert (stats.shells_opened, stats.shells_closed) == (1, 1)


def test_demo_changes_reach_the_simulated_host() -> None:
    with start_demo("desktop", seed=1) as demo:
        client = demo.client()
        vm = next(vm for vm in client.list().vms if vm.state == "Off")

        after = client.set_memory(vm, MemoryChange(startup_mb=vm.memory.startup_mb + 512))
        _, again = client.get_vm(vm.id)
        client.close()

    assert after.memory.startup_mb == vm.memory.startup_mb + 512
    assert again.memory.startup_mb == after.memory.startup_mb


def test_demo_password_is_random_and_not_in_repr() -> None:
    with start_demo() as first, start_demo() as second:
        assert first.password != second.password
        assert first.password not in repr(first)
        assert first.password not in repr(first.target)
        assert first.url.startswith("http://127.0.0.1:")


def test_demo_client_goes_by_the_host_name_not_its_loopback_address() -> None:
    with start_demo("desktop") as demo:
        client = demo.client()
        try:
            assert client.name == "DESKTOP-HV"
        finally:
            client.close()
