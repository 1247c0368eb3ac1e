"""Agent modes over real loopback WinRM: a long-lived agent, one agent per request, and
auto's fallback on a host that delivers stdin only at its end. Round trips are counted at
the server for each mode."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from hvmem.errors import ErrorKind, HvmemError
from hvmem.hyperv.winrm_channel import WinrmChannel
from hvmem.sim.wsman import WsmanServer
from wsman_fakes import PASSWORD, USER, EchoHandler, target_for

Property = Callable[[str, object], None]


def _server(stdin_at_end: bool) -> WsmanServer:
    return WsmanServer(EchoHandler, {USER: PASSWORD}, receive_wait=0.1,
                       stdin_at_end=stdin_at_end).start()


@pytest.fixture
def line_host() -> Iterator[WsmanServer]:
    server = _server(stdin_at_end=False)
    yield server
    server.stop()


@pytest.fixture
def end_only_host() -> Iterator[WsmanServer]:
    server = _server(stdin_at_end=True)
    yield server
    server.stop()


def _per_call(server: WsmanServer, channel: WinrmChannel, op: str = "list",
              ) -> tuple[int, dict[str, int]]:
    before = server.stats
    answer = channel.call(op, {}, timeout=10)
    after = server.stats
    assert answer["ok"] is True and answer["result"]["op"] == op
    return (after.http_requests - before.http_requests,
            dict(after.actions - before.actions))


def test_auto_on_an_ordinary_host_keeps_one_agent(line_host: WsmanServer,
                                                  record_property: Property) -> None:
    channel = WinrmChannel(target_for(line_host.url, probe_s=2.0))

    channel.call("hello", {}, timeout=10)
    requests, actions = _per_call(line_host, channel)
    channel.close()

    record_property("http_requests_per_call_persistent", requests)
    assert channel.agent_mode == "persistent"
    assert (requests, actions) == (2, {"Send": 1, "Receive": 1})
    assert line_host.stats.commands_started == 1


def test_auto_falls_back_to_one_agent_per_request_when_stdin_waits_for_its_end(
        end_only_host: WsmanServer, record_property: Property) -> None:
    channel = WinrmChannel(target_for(end_only_host.url, probe_s=0.5))

    hello = channel.call("hello", {}, timeout=10)
    first = end_only_host.stats
    requests, actions = _per_call(end_only_host, channel)
    channel.call("set_memory", {"vm_id": "x"}, timeout=10)
    channel.close()

    record_property("http_requests_per_call_per_request", requests)
    print(f"HTTP requests: first call with fallback {first.http_requests}, "
          f"each later call {requests}")
    assert hello["result"]["op"] == "hello"
    assert channel.agent_mode == "per-request"
    assert (requests, actions) == (4, {"Command": 1, "Send": 1, "Receive": 1,
                                       "Signal": 1})
    # One silent long-lived agent, then one agent per request (hello, list, set).
    stats = end_only_host.stats
    assert stats.commands_started == 1 + 3
    assert (stats.shells_opened, stats.shells_closed, stats.open_shells) == (1, 1, 0)


def test_a_first_write_is_never_the_probe() -> None:
    handlers: list[EchoHandler] = []

    def factory() -> EchoHandler:
        handlers.append(EchoHandler())
        return handlers[-1]

    server = WsmanServer(factory, {USER: PASSWORD}, receive_wait=0.1,
                         stdin_at_end=True).start()
    channel = WinrmChannel(target_for(server.url, probe_s=0.5))
    try:
        answer = channel.call("set_memory", {"vm_id": "x"}, timeout=10)
    finally:
        channel.close()
        server.stop()

    seen = [line for handler in handlers for line in handler.lines]
    assert answer["result"]["op"] == "set_memory"
    assert sum('"set_memory"' in line for line in seen) == 1
    assert sum('"hello"' in line for line in seen) == 1  # the probe, in per-request mode


def test_forced_per_request_never_tries_a_long_lived_agent(
        line_host: WsmanServer, record_property: Property) -> None:
    channel = WinrmChannel(target_for(line_host.url, agent_mode="per-request"))

    requests = [_per_call(line_host, channel, op)[0] for op in ("hello", "list")]
    channel.close()

    record_property("http_requests_first_and_next_per_request", requests)
    assert requests == [5, 4]  # the first call also opens the shell
    assert line_host.stats.commands_started == 2


def test_forced_persistent_does_not_fall_back(end_only_host: WsmanServer) -> None:
    channel = WinrmChannel(target_for(end_only_host.url, agent_mode="persistent",
                                      probe_s=0.3))

    with pytest.raises(HvmemError) as caught:
        channel.call("hello", {}, timeout=1.5)

    assert caught.value.kind is ErrorKind.TIMEOUT
    assert channel.agent_mode == "persistent"
    assert end_only_host.stats.commands_started == 1
    assert end_only_host.stats.open_shells == 0


def test_an_unknown_agent_mode_is_refused() -> None:
    with pytest.raises(HvmemError) as caught:
        WinrmChannel(target_for("http://127.0.0.1:5985/wsman", agent_mode="sometimes"))

    assert caught.value.kind is ErrorKind.CONFIG
    assert "agent mode" in caught.value.summary
