"""WinrmChannel against the loopback server over real HTTP: cost, cleanup, failures."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator

import pytest
import winrm

from hvmem.errors import ErrorKind, HvmemError
from hvmem.hyperv.client import HostClient
from hvmem.hyperv.protocol import ProtocolError
from hvmem.hyperv.winrm_channel import WinrmChannel
from hvmem.sim.wsman import LineHandler, WsmanFault, WsmanServer
from wsman_fakes import (
    PASSWORD,
    USER,
    CrashingHandler,
    EchoHandler,
    GarbageHandler,
    HangingHandler,
    target_for,
)

ServerFactory = Callable[[Callable[[], LineHandler]], WsmanServer]


@pytest.fixture
def make_server() -> Iterator[ServerFactory]:
    servers: list[WsmanServer] = []

    def make(factory: Callable[[], LineHandler]) -> WsmanServer:
        server = WsmanServer(factory, {USER: PASSWORD}, receive_wait=0.2).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def server(make_server: ServerFactory) -> WsmanServer:
    return make_server(EchoHandler)


@pytest.fixture
def channel(server: WsmanServer) -> Iterator[WinrmChannel]:
    channel = WinrmChannel(target_for(server.url))
    yield channel
    channel.close()


def test_a_call_costs_two_round_trips_against_five_for_run_ps(
        server: WsmanServer, channel: WinrmChannel,
        record_property: Callable[[str, object], None]) -> None:
    channel.call("hello", {}, timeout=10)  # opens the shell and starts the agent
    before = server.stats

    answer = channel.call("list", {}, timeout=10)
    after = server.stats
    session = winrm.Session(server.url, auth=(USER, PASSWORD), transport="basic",
                            proxy=None, ca_trust_path=None)
    session.run_ps("'hello'")
    run_ps = server.stats.http_requests - after.http_requests

    per_call = after.http_requests - before.http_requests
    record_property("http_requests_per_channel_call", per_call)
    record_property("http_requests_per_run_ps", run_ps)
    print(f"HTTP requests: channel call {per_call}, Session.run_ps {run_ps}")
    assert answer["ok"] is True and answer["result"]["op"] == "list"
    assert per_call == 2
    assert (after.actions - before.actions) == {"Send": 1, "Receive": 1}
    assert run_ps == 5


def test_calls_share_one_shell_and_one_connection(server: WsmanServer,
                                                   channel: WinrmChannel) -> None:
    for _ in range(5):
        channel.call("hello", {}, timeout=10)

    stats = server.stats
    assert (stats.shells_opened, stats.commands_started, stats.connections) == (1, 1, 1)


def test_connects_lazily_and_closes_cleanly(server: WsmanServer) -> None:
    channel = WinrmChannel(target_for(server.url))
    assert server.stats.http_requests == 0

    channel.call("hello", {}, timeout=10)
    channel.close()
    channel.close()

    stats = server.stats
    assert (stats.shells_opened, stats.shells_closed, stats.open_shells) == (1, 1, 0)
    assert stats.actions["Signal"] == 1


@pytest.mark.parametrize("name", ["测试", "Café-DB", "Ωmega ünïcode"])
def test_names_outside_ascii_round_trip(channel: WinrmChannel, name: str) -> None:
    answer = channel.call("get_vm", {"vm_name": name}, timeout=10)

    assert answer["result"]["args"] == {"vm_name": name}


def test_stray_output_before_the_answer_is_ignored(make_server: ServerFactory) -> None:
    server = make_server(lambda: EchoHandler(stray="WARNING: profile banner"))
    channel = WinrmChannel(target_for(server.url))

    answer = channel.call("hello", {}, timeout=10)
    channel.close()

    assert answer["result"]["op"] == "hello"


def test_bad_password_is_auth_after_one_request(server: WsmanServer) -> None:
    channel = WinrmChannel(target_for(server.url, password="wrong"))

    with pytest.raises(HvmemError) as caught:
        channel.call("hello", {}, timeout=10)

    assert caught.value.kind is ErrorKind.AUTH
    assert "credentials were rejected" in caught.value.summary
    assert "DOMAIN\\user" in caught.value.hint
    assert server.stats.http_requests == 1


def test_a_hung_agent_times_out_and_leaves_no_shell(make_server: ServerFactory) -> None:
    release = threading.Event()
    server = make_server(lambda: HangingHandler(release))
    channel = WinrmChannel(target_for(server.url))

    try:
        with pytest.raises(HvmemError) as caught:
            channel.call("list", {}, timeout=1.5)
    finally:
        release.set()

    assert caught.value.kind is ErrorKind.TIMEOUT
    assert caught.value.summary == "127.0.0.1 did not answer within 1.5 s"
    assert server.stats.actions["Send"] == 2  # the script line and the request, once
    assert server.stats.open_shells == 0


def test_an_agent_that_dies_is_an_agent_error_and_leaves_no_shell(
        make_server: ServerFactory) -> None:
    server = make_server(CrashingHandler)
    channel = WinrmChannel(target_for(server.url))

    with pytest.raises(HvmemError) as caught:
        channel.call("list", {}, timeout=10)

    assert caught.value.kind is ErrorKind.AGENT
    assert "Hyper-V module could not be loaded" in caught.value.details
    assert "exit code 1" in caught.value.summary
    assert server.stats.open_shells == 0


def test_garbage_from_the_agent_reaches_the_client_as_agent_error(
        make_server: ServerFactory) -> None:
    server = make_server(GarbageHandler)
    channel = WinrmChannel(target_for(server.url))

    with pytest.raises(ProtocolError):
        channel.call("hello", {}, timeout=10)
    with pytest.raises(HvmemError) as caught:
        HostClient(WinrmChannel(target_for(server.url)), "sim").hello()

    assert caught.value.kind is ErrorKind.AGENT
    assert server.stats.open_shells == 0


def test_lost_shell_is_a_wsman_fault_then_the_next_call_reconnects(
        server: WsmanServer, channel: WinrmChannel) -> None:
    channel.call("hello", {}, timeout=10)
    server.winrs.close_all()  # the host forgot the shell (service restart)
    sends_before = server.stats.actions["Send"]

    with pytest.raises(HvmemError) as caught:
        channel.call("set_memory", {"vm_id": "x"}, timeout=10)
    answer = channel.call("hello", {}, timeout=10)

    assert caught.value.kind is ErrorKind.WSMAN_FAULT
    assert "2150858843" in caught.value.details
    assert "w:InvalidSelectors" in caught.value.details
    # The failed write was sent once and never again; the reconnect sent script + hello.
    assert server.stats.actions["Send"] - sends_before == 1 + 2
    assert answer["ok"] is True


@pytest.mark.parametrize(("fault", "kind"), [
    (WsmanFault.access_denied(), ErrorKind.ACCESS_DENIED),
    (WsmanFault.shell_quota(5), ErrorKind.QUOTA),
    (WsmanFault("s:Receiver", "w:InternalError", "The pipe has been ended. ", 109),
     ErrorKind.WSMAN_FAULT),
])
def test_faults_map_to_kinds(server: WsmanServer, channel: WinrmChannel,
                             fault: WsmanFault, kind: ErrorKind) -> None:
    server.inject("Create", fault=fault)

    with pytest.raises(HvmemError) as caught:
        channel.call("hello", {}, timeout=10)

    assert caught.value.kind is kind
    assert fault.reason.strip() in caught.value.details


def test_a_500_page_shows_the_fault_message_from_the_body(
        server: WsmanServer, channel: WinrmChannel) -> None:
    page = (b"<html><f:Message>The WS-Management service cannot process the request. "
            b"The service is shutting down.</f:Message></html>")
    server.inject("Create", status=500, body=page)

    with pytest.raises(HvmemError) as caught:
        channel.call("hello", {}, timeout=10)

    assert caught.value.kind is ErrorKind.WSMAN_FAULT
    assert caught.value.summary.endswith("The service is shutting down.")


def test_a_closed_port_is_unreachable(server: WsmanServer) -> None:
    url = server.url
    server.stop()
    channel = WinrmChannel(target_for(url))

    with pytest.raises(HvmemError) as caught:
        channel.call("hello", {}, timeout=10)

    assert caught.value.kind is ErrorKind.UNREACHABLE
    assert caught.value.summary == "Cannot reach 127.0.0.1"


def test_a_slow_answer_is_a_timeout_not_a_hang(server: WsmanServer,
                                               channel: WinrmChannel) -> None:
    server.inject("Create", delay=3.0)

    with pytest.raises(HvmemError) as caught:
        channel.call("hello", {}, timeout=1)

    assert caught.value.kind is ErrorKind.TIMEOUT
    assert caught.value.summary == "127.0.0.1 did not answer within 1 s"
    assert server.stats.open_shells == 0


def test_a_simulator_failure_is_a_fault_not_a_dropped_connection(
        make_server: ServerFactory) -> None:
    def broken_factory() -> LineHandler:
        raise RuntimeError("scenario state is corrupt")

    server = make_server(broken_factory)
    channel = WinrmChannel(target_for(server.url))

    with pytest.raises(HvmemError) as caught:
        channel.call("hello", {}, timeout=10)

    assert caught.value.kind is ErrorKind.WSMAN_FAULT
    assert "scenario state is corrupt" in caught.value.summary
    assert server.stats.open_shells == 0


def test_the_password_never_reaches_the_log(server: WsmanServer,
                                            caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    channel = WinrmChannel(target_for(server.url))
    bad = WinrmChannel(target_for(server.url, password="wrong-" + PASSWORD))

    channel.call("hello", {}, timeout=10)
    channel.close()
    with pytest.raises(HvmemError) as caught:
        bad.call("hello", {}, timeout=10)

    assert caplog.records  # debug logging was on and produced lines
    assert PASSWORD not in caplog.text
    assert PASSWORD not in str(caught.value) + caught.value.details + caught.value.hint
