"""Reads reconnect by themselves after a dead shell or a restarted host; writes are never
asked twice, and a write cut off mid-way is read back through the real WinRM path."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from hvmem import controller
from hvmem.errors import ErrorKind, HvmemError
from hvmem.hyperv.client import HostClient, vm_from_wire
from hvmem.hyperv.connect import open_client
from hvmem.model import MemoryChange
from hvmem.sim.agent import SimAgent
from hvmem.sim.host import SimHost
from hvmem.sim.scenario import load_scenario
from hvmem.sim.wsman import WsmanFault, WsmanServer
from wsman_fakes import PASSWORD, USER, target_for


class CountingAgent:
    """The simulator's agent, counting the requests that reach it by op."""

    def __init__(self, agent: SimAgent, seen: list[str]) -> None:
        self.agent = agent
        self.seen = seen

    def handle_line(self, line: str) -> str:
        self.seen.append(json.loads(line)["op"])
        return self.agent.handle_line(line)


@pytest.fixture
def sim_host() -> SimHost:
    return load_scenario("desktop", seed=1)


@pytest.fixture
def seen() -> list[str]:
    return []


def _serve(sim_host: SimHost, seen: list[str], port: int = 0) -> WsmanServer:
    return WsmanServer(lambda: CountingAgent(SimAgent(sim_host), seen),
                       {USER: PASSWORD}, port=port, receive_wait=0.1).start()


@pytest.fixture
def server(sim_host: SimHost, seen: list[str]) -> Iterator[WsmanServer]:
    server = _serve(sim_host, seen)
    yield server
    server.stop()


@pytest.fixture
def client(server: WsmanServer) -> Iterator[HostClient]:
    client = open_client(target_for(server.url, agent_mode="persistent"))
    yield client
    client.close()


def test_a_read_after_the_host_restarted_reconnects_by_itself(
        sim_host: SimHost, seen: list[str]) -> None:
    first = _serve(sim_host, seen)
    client = open_client(target_for(first.url, agent_mode="persistent"))
    try:
        client.hello()
        first.stop()
        second = _serve(sim_host, seen, port=first.port)  # the host is back
        try:
            inventory = client.list()
        finally:
            client.close()
            second.stop()
    finally:
        first.stop()

    assert inventory.vms
    assert seen == ["hello", "list"]
    assert second.stats.shells_opened == 1


def test_a_read_on_a_dead_shell_reconnects_by_itself(
        server: WsmanServer, client: HostClient, seen: list[str]) -> None:
    client.hello()
    server.inject("Send", fault=WsmanFault.invalid_selectors("No shell has this id."))

    inventory = client.list()

    assert inventory.vms
    assert seen == ["hello", "list"]
    assert server.stats.shells_opened == 2
    assert server.stats.open_shells == 1


def test_a_write_on_a_dead_shell_is_not_sent_again(
        server: WsmanServer, client: HostClient, seen: list[str]) -> None:
    vm = client.list().vms[0]
    server.winrs.close_all()  # the host forgot every shell

    with pytest.raises(HvmemError) as caught:
        client.set_memory(vm, MemoryChange(weight=vm.memory.weight + 1))

    assert caught.value.kind is ErrorKind.WSMAN_FAULT
    assert server.stats.shells_opened == 1  # no reconnect for a write
    assert "set_memory" not in seen


def test_a_write_cut_off_after_its_send_is_read_back_not_resent(
        server: WsmanServer, client: HostClient, sim_host: SimHost,
        seen: list[str]) -> None:
    inventory = client.list()
    vm = next(vm for vm in inventory.vms if vm.state == "Off")
    wanted = vm.memory.startup_mb + 512
    # The Send carrying set_memory goes through; the Receive for its answer fails.
    server.inject("Receive", fault=WsmanFault(
        "s:Receiver", "w:InternalError", "The pipe has been ended. ", 109))

    result = controller.apply(client, vm, MemoryChange(startup_mb=wanted),
                              inventory.host, sleep=lambda s: None)

    assert seen.count("set_memory") == 1
    assert seen[-1] == "get_vm"  # read back over a new shell
    assert result.outcome == "applied"
    assert result.after is not None and result.after.startup_mb == wanted
    assert sim_host.find(vm.id).settings.startup_mb == wanted
    assert result.error is not None and "The pipe has been ended." in (
        result.error.summary)


class _FailingOnce:
    """A channel whose first call fails with `kind`, then answers."""

    description = "fake"

    def __init__(self, kind: ErrorKind) -> None:
        self.kind = kind
        self.calls: list[str] = []

    def call(self, op: str, args: Mapping[str, Any], timeout: float) -> dict[str, Any]:
        self.calls.append(op)
        if len(self.calls) == 1:
            raise HvmemError(self.kind, "failed once")
        return {"id": 1, "ok": True, "result": {"host_name": "hv", "hyperv_admin": True}}

    def close(self) -> None:
        pass


@pytest.mark.parametrize(("kind", "retried"), [
    (ErrorKind.UNREACHABLE, True), (ErrorKind.WSMAN_FAULT, True),
    (ErrorKind.AGENT, True), (ErrorKind.TIMEOUT, False), (ErrorKind.AUTH, False),
    (ErrorKind.TLS, False), (ErrorKind.QUOTA, False), (ErrorKind.ACCESS_DENIED, False),
])
def test_only_curable_failures_are_retried_and_only_for_reads(
        kind: ErrorKind, retried: bool) -> None:
    channel = _FailingOnce(kind)
    client = HostClient(channel, "hv")

    if retried:
        assert client.hello().host_name == "hv"
    else:
        with pytest.raises(HvmemError):
            client.hello()
    assert channel.calls == ["hello", "hello"] if retried else ["hello"]


def test_a_write_is_never_retried_whatever_the_failure() -> None:
    channel = _FailingOnce(ErrorKind.UNREACHABLE)
    client = HostClient(channel, "hv")
    answer = SimAgent(load_scenario("desktop", seed=1)).handle(
        {"id": 1, "op": "list", "args": {}})
    vm = vm_from_wire(answer["result"]["vms"][0])

    with pytest.raises(HvmemError):
        client.set_memory(vm, MemoryChange(weight=7))

    assert channel.calls == ["set_memory"]
