"""The loopback WS-Management server, driven by real pywinrm and by raw HTTP."""

from __future__ import annotations

import base64
import http.client
from collections.abc import Iterator

import pytest
import winrm
from winrm.exceptions import (
    InvalidCredentialsError,
    WinRMOperationTimeoutError,
    WSManFaultError,
)
from winrm.protocol import Protocol

from hvmem.hyperv import agent_script
from hvmem.hyperv.protocol import LineDecoder, encode_request
from hvmem.sim.wsman import WsmanFault, WsmanServer
from wsman_fakes import PASSWORD, USER, EchoHandler


@pytest.fixture
def server() -> Iterator[WsmanServer]:
    with WsmanServer(EchoHandler, {USER: PASSWORD}, receive_wait=0.2) as srv:
        yield srv


def protocol_for(server: WsmanServer, password: str = PASSWORD) -> Protocol:
    return Protocol(server.url, transport="basic", username=USER, password=password,
                    proxy=None, ca_trust_path=None,  # type: ignore[arg-type]
                    operation_timeout_sec=2, read_timeout_sec=10)


def start_agent(protocol: Protocol) -> tuple[str, str]:
    shell = protocol.open_shell(codepage=65001, noprofile=True)
    command = protocol.run_command(shell, agent_script.start_command(),
                                   console_mode_stdin=False)
    protocol.send_command_input(shell, command, agent_script.script_line())
    return shell, command


def receive_until_done(protocol: Protocol, shell: str, command: str,
                       ) -> tuple[bytes, bytes, int]:
    out, err = b"", b""
    for _ in range(20):
        try:
            stdout, stderr, code, done = protocol.get_command_output_raw(shell, command)
        except WinRMOperationTimeoutError:
            continue
        out, err = out + stdout, err + stderr
        if done:
            return out, err, code
    raise AssertionError("the command never ended")


def test_agent_answers_each_line_and_ends_with_stdin(server: WsmanServer) -> None:
    protocol = protocol_for(server)
    shell, command = start_agent(protocol)

    protocol.send_command_input(shell, command, encode_request(1, "hello", {}))
    protocol.send_command_input(shell, command, encode_request(2, "list", {}), end=True)
    stdout, stderr, code = receive_until_done(protocol, shell, command)

    answers = LineDecoder().feed(stdout)
    assert [a["id"] for a in answers] == [1, 2]
    assert answers[1]["result"]["op"] == "list"
    assert (stderr, code) == (b"", 0)
    protocol.cleanup_command(shell, command)
    protocol.close_shell(shell)
    stats = server.stats
    assert (stats.shells_opened, stats.shells_closed, stats.open_shells) == (1, 1, 0)
    assert stats.commands_started == 1


def test_other_commands_get_the_simulated_hosts_error(server: WsmanServer) -> None:
    session = winrm.Session(server.url, auth=(USER, PASSWORD), transport="basic",
                            proxy=None, ca_trust_path=None)

    result = session.run_ps("Get-VM | Set-VMMemory -StartupBytes 4GB")

    assert result.status_code == 1
    assert b"runs only hvmem's agent" in result.std_err
    assert server.stats.open_shells == 0


def test_a_wrong_script_line_stops_the_agent_with_an_error(server: WsmanServer) -> None:
    protocol = protocol_for(server)
    shell = protocol.open_shell(codepage=65001)
    command = protocol.run_command(shell, agent_script.start_command())

    other = base64.b64encode(b"Write-Output 'not the agent'") + b"\n"
    protocol.send_command_input(shell, command, other)
    _, stderr, code = receive_until_done(protocol, shell, command)

    assert code == 1
    assert stderr.startswith(b"#< CLIXML\r\n")
    assert b"HvmemAgentScriptMismatch" in stderr
    protocol.close_shell(shell)


@pytest.mark.parametrize(("codepage", "expected"), [(437, b"Caf\x82"),
                                                     (65001, b"Caf\xc3\xa9")])
def test_output_is_in_the_shells_code_page(server: WsmanServer, codepage: int,
                                           expected: bytes) -> None:
    protocol = protocol_for(server)
    shell = protocol.open_shell(codepage=codepage)
    command = protocol.run_command(shell, "echo Café")

    _, stderr, _ = receive_until_done(protocol, shell, command)

    assert expected in stderr
    protocol.close_shell(shell)


def test_empty_receive_times_out_with_the_wsman_fault(server: WsmanServer) -> None:
    protocol = protocol_for(server)
    shell, command = start_agent(protocol)

    with pytest.raises(WinRMOperationTimeoutError):
        protocol.get_command_output_raw(shell, command)
    assert server.stats.faults == 1
    protocol.close_shell(shell)


def test_unknown_shell_is_an_invalid_selectors_fault(server: WsmanServer) -> None:
    protocol = protocol_for(server)

    with pytest.raises(WSManFaultError) as caught:
        protocol.run_command("0000-NO-SUCH-SHELL", agent_script.start_command())

    assert caught.value.wsman_fault_code == 2150858843
    assert caught.value.fault_subcode == "w:InvalidSelectors"


def test_malformed_xml_is_a_schema_validation_fault(server: WsmanServer) -> None:
    protocol = protocol_for(server)

    with pytest.raises(WSManFaultError) as caught:
        protocol.send_message("<env:Envelope this is not xml")

    assert caught.value.wsman_fault_code == 2150858817


def test_bad_credentials_get_401_with_basic_challenge(server: WsmanServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    token = base64.b64encode(f"{USER}:wrong".encode()).decode()
    conn.request("POST", "/wsman", body=b"<x/>",
                 headers={"Authorization": "Basic " + token})
    response = conn.getresponse()

    assert response.status == 401
    assert response.getheader("WWW-Authenticate") == 'Basic realm="WSMAN"'
    assert response.read() == b""
    with pytest.raises(InvalidCredentialsError):
        protocol_for(server, password="wrong").open_shell()
    assert server.stats.auth_failures == 2


def test_injected_fault_answers_once_then_normal(server: WsmanServer) -> None:
    protocol = protocol_for(server)
    server.inject("Create", fault=WsmanFault.access_denied())

    with pytest.raises(WSManFaultError) as caught:
        protocol.open_shell()
    shell = protocol.open_shell()

    assert caught.value.wsman_fault_code == 2147942405
    assert server.stats.shells_opened == 1
    protocol.close_shell(shell)


def test_shell_quota_is_enforced_per_user() -> None:
    with WsmanServer(EchoHandler, {USER: PASSWORD}, max_shells_per_user=1) as server:
        protocol = protocol_for(server)
        shell = protocol.open_shell()

        with pytest.raises(WSManFaultError) as caught:
            protocol.open_shell()

        assert caught.value.wsman_fault_code == 2150859173
        protocol.close_shell(shell)


def test_stop_ends_keep_alive_connections() -> None:
    server = WsmanServer(EchoHandler, {USER: PASSWORD}).start()
    protocol = protocol_for(server)
    protocol.open_shell()

    server.stop()

    with pytest.raises(Exception) as caught:  # requests' ConnectionError, not an answer
        protocol.open_shell()
    assert "Connection" in type(caught.value).__name__
