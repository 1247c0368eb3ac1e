"""Every kind of failure a host connection can meet, through HostClient over real
loopback WinRM: its kind, a summary a person understands, and the host's own text in the
details."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hvmem.errors import ErrorKind, HvmemError
from hvmem.hyperv.client import HostClient, Timeouts
from hvmem.hyperv.connect import HostTarget, open_client
from hvmem.sim.agent import SimAgent
from hvmem.sim.scenario import load_scenario
from hvmem.sim.wsman import LineHandler, WsmanFault, WsmanServer
from wsman_fakes import (
    PASSWORD,
    USER,
    CrashingHandler,
    EchoHandler,
    GarbageHandler,
    HangingHandler,
    NoRightsHandler,
    make_pki,
    target_for,
)


@dataclass
class Setup:
    """Starts servers for one case; everything started is stopped afterwards."""

    stack: ExitStack
    tmp_path: Path

    def serve(self, factory: Callable[[], LineHandler], **options: Any) -> WsmanServer:
        server = WsmanServer(factory, {USER: PASSWORD}, receive_wait=0.1, **options)
        self.stack.callback(server.stop)
        return server.start()

    def client(self, target: HostTarget, read_s: float = 10.0) -> HostClient:
        client = open_client(target, Timeouts(read=read_s, write=read_s))
        self.stack.callback(client.close)
        return client


def _refused_credentials(setup: Setup) -> HostClient:
    return setup.client(target_for(setup.serve(EchoHandler).url, password="wrong"))


def _access_denied(setup: Setup) -> HostClient:
    server = setup.serve(EchoHandler)
    server.inject("Create", fault=WsmanFault.access_denied())
    return setup.client(target_for(server.url))


def _untrusted_certificate(setup: Setup) -> HostClient:
    pki = make_pki(setup.tmp_path)
    server = setup.serve(EchoHandler, ssl_context=pki.server_context())
    return setup.client(target_for(server.url))


def _unreachable(setup: Setup) -> HostClient:
    server = setup.serve(EchoHandler)
    server.stop()
    return setup.client(target_for(server.url))


def _timeout(setup: Setup) -> HostClient:
    import threading

    release = threading.Event()
    setup.stack.callback(release.set)
    server = setup.serve(lambda: HangingHandler(release))
    return setup.client(target_for(server.url), read_s=1.5)


def _wsman_fault(setup: Setup) -> HostClient:
    server = setup.serve(EchoHandler)
    server.inject("Create", times=2, fault=WsmanFault(
        "s:Receiver", "w:InternalError", "The pipe has been ended. ", 109))
    return setup.client(target_for(server.url))


def _shell_quota(setup: Setup) -> HostClient:
    server = setup.serve(EchoHandler, max_shells_per_user=1)
    setup.client(target_for(server.url)).hello()  # another session holds the one shell
    return setup.client(target_for(server.url))


def _no_rights(setup: Setup) -> HostClient:
    sim_host = load_scenario("desktop", seed=1)
    server = setup.serve(lambda: SimAgent(sim_host, hyperv_admin=False))
    return setup.client(target_for(server.url))


def _no_rights_empty_list(setup: Setup) -> HostClient:
    return setup.client(target_for(setup.serve(NoRightsHandler).url))


def _garbage(setup: Setup) -> HostClient:
    return setup.client(target_for(setup.serve(GarbageHandler).url))


def _agent_died(setup: Setup) -> HostClient:
    return setup.client(target_for(setup.serve(CrashingHandler).url))


CASES = [
    (_refused_credentials, ErrorKind.AUTH, "The credentials were rejected",
     "credentials were rejected by the server"),
    (_access_denied, ErrorKind.ACCESS_DENIED, "may not use WinRM on 127.0.0.1",
     "Access is denied."),
    (_untrusted_certificate, ErrorKind.TLS, "The certificate of 127.0.0.1 is not trusted",
     "CERTIFICATE_VERIFY_FAILED"),
    (_unreachable, ErrorKind.UNREACHABLE, "Cannot reach 127.0.0.1", "Connection refused"),
    (_timeout, ErrorKind.TIMEOUT, "127.0.0.1 did not answer within 1.5 s",
     "no answer from the agent within 1.5 s"),
    (_wsman_fault, ErrorKind.WSMAN_FAULT, "refused the request: The pipe has been ended.",
     "WSManFault code: 109"),
    (_shell_quota, ErrorKind.QUOTA, "a WinRM quota is reached",
     "maximum number of 1 concurrent shells"),
    (_no_rights, ErrorKind.NO_RIGHTS, "You do not have the required permission",
     "AccessDenied"),
    (_no_rights_empty_list, ErrorKind.NO_RIGHTS, "it is not a Hyper-V administrator",
     "hyperv_admin = false"),
    (_garbage, ErrorKind.AGENT, "answered something hvmem does not understand",
     "{this is not json"),
    (_agent_died, ErrorKind.AGENT, "stopped (exit code 1)",
     "The Hyper-V module could not be loaded."),
]


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    with ExitStack() as stack:
        yield Setup(stack, tmp_path)


@pytest.mark.parametrize(("arrange", "kind", "summary", "details"), CASES,
                         ids=[case[0].__name__.strip("_") for case in CASES])
def test_each_failure_has_its_kind_summary_details_and_hint(
        setup: Setup, arrange: Callable[[Setup], HostClient], kind: ErrorKind,
        summary: str, details: str) -> None:
    client = arrange(setup)

    with pytest.raises(HvmemError) as caught:
        client.list()

    error = caught.value
    assert error.kind is kind
    assert summary in error.summary
    assert details in error.details
    assert error.hint
    assert error.host == "127.0.0.1"


def test_refused_credentials_are_asked_once_not_in_a_loop(setup: Setup) -> None:
    server = setup.serve(EchoHandler)
    client = setup.client(target_for(server.url, password="wrong"))

    for _ in range(2):
        with pytest.raises(HvmemError):
            client.list()

    assert server.stats.http_requests == 2  # one per call: no retry, no loop
    assert server.stats.auth_failures == 2


def test_an_empty_list_for_an_administrator_is_just_empty(setup: Setup) -> None:
    class AdminWithNoVms(NoRightsHandler):
        def handle_line(self, line: str) -> str:
            return super().handle_line(line).replace('"hyperv_admin":false',
                                                     '"hyperv_admin":true')

    client = setup.client(target_for(setup.serve(AdminWithNoVms).url))

    inventory = client.list()

    assert inventory.vms == ()
    assert client.last_hello is not None and client.last_hello.hyperv_admin


@pytest.mark.parametrize("auth", ["kerberos", "credssp"])
def test_a_missing_extra_is_a_config_error_naming_the_package(auth: str) -> None:
    target = HostTarget("https://hv01:5986/wsman", auth=auth,  # type: ignore[arg-type]
                        user="LAB\\admin", password="x")

    with pytest.raises(HvmemError) as caught:
        open_client(target)

    assert caught.value.kind is ErrorKind.CONFIG
    assert f"pip install 'hvmem[{auth}]'" in caught.value.hint
