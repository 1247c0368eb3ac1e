"""NTLM with MS-WSMV message encryption over plain HTTP, against the loopback server:
pywinrm's own NTLM transport, every SOAP body sealed both ways, faults included."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from winrm.exceptions import WinRMTransportError
from winrm.protocol import Protocol

from hvmem.errors import ErrorKind, HvmemError
from hvmem.hyperv.winrm_channel import WinrmChannel
from hvmem.sim.wsman import WsmanFault, WsmanServer
from wsman_fakes import NTLM_USERS, PASSWORD, USER, EchoHandler, ntlm_user_file, target_for


@pytest.fixture
def server() -> Iterator[WsmanServer]:
    ntlm_user_file()
    with WsmanServer(EchoHandler, {}, auth="ntlm", receive_wait=0.2) as server:
        yield server


def _ntlm_channel(server: WsmanServer, user: str = USER,
                  password: str = PASSWORD) -> WinrmChannel:
    return WinrmChannel(target_for(server.url, auth="ntlm", user=user,
                                   password=password, agent_mode="persistent"))


def test_ntlm_over_http_seals_every_body(server: WsmanServer) -> None:
    channel = _ntlm_channel(server)

    hello = channel.call("hello", {}, timeout=10)
    before = server.stats
    listing = channel.call("list", {}, timeout=10)
    after = server.stats
    channel.close()

    stats = server.stats
    assert hello["ok"] is True and listing["result"]["op"] == "list"
    assert stats.plain_bodies == 0
    assert stats.encrypted_bodies == sum(stats.actions.values()) > 0
    assert after.http_requests - before.http_requests == 2
    assert stats.auth_failures == 0


def test_a_domain_account_signs_in_with_ntlm(server: WsmanServer) -> None:
    channel = _ntlm_channel(server, "LAB\\alice", NTLM_USERS["LAB\\alice"])

    answer = channel.call("hello", {}, timeout=10)
    channel.close()

    assert answer["ok"] is True


def test_a_wrong_ntlm_password_is_auth_without_a_retry_loop(server: WsmanServer) -> None:
    channel = _ntlm_channel(server, password="not-" + PASSWORD)

    with pytest.raises(HvmemError) as caught:
        channel.call("hello", {}, timeout=10)

    assert caught.value.kind is ErrorKind.AUTH
    assert "credentials were rejected" in caught.value.summary
    stats = server.stats
    # The three legs of one handshake (none, NEGOTIATE, AUTHENTICATE), and nothing more.
    assert (stats.http_requests, stats.auth_failures) == (3, 1)
    assert stats.shells_opened == 0


def test_faults_come_back_sealed_and_readable(server: WsmanServer) -> None:
    channel = _ntlm_channel(server)
    server.inject("Create", fault=WsmanFault.shell_quota(5))

    with pytest.raises(HvmemError) as caught:
        channel.call("hello", {}, timeout=10)

    assert caught.value.kind is ErrorKind.QUOTA
    assert "maximum number of 5 concurrent shells" in caught.value.details
    assert server.stats.faults == 1 and server.stats.plain_bodies == 0


def test_an_unsealed_body_over_http_is_refused(server: WsmanServer) -> None:
    protocol = Protocol(server.url, transport="ntlm", username=USER, password=PASSWORD,
                        message_encryption="never", proxy=None,
                        ca_trust_path=None)  # type: ignore[arg-type]

    with pytest.raises(WinRMTransportError) as caught:
        protocol.open_shell()

    assert caught.value.code == 400
    assert server.stats.plain_bodies == 1
    assert server.stats.shells_opened == 0
