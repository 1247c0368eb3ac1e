"""The demo host: a scenario served over real WinRM on loopback, inside this process.

`start_demo` loads a scenario, starts `WsmanServer` on a free loopback port with user
"demo" and a random password, and returns a `DemoHost` whose `target` opens a `HostClient`
like any real host's. The GUI uses it when no host is given; tests use it as a full-stack
fixture.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass, field

from hvmem.hyperv.client import HostClient, Timeouts
from hvmem.hyperv.connect import HostTarget, open_client
from hvmem.sim.agent import SimAgent
from hvmem.sim.host import SimHost
from hvmem.sim.scenario import load_scenario
from hvmem.sim.wsman import WsmanServer

log = logging.getLogger("hvmem.sim")

DEMO_USER = "demo"


@dataclass
class DemoHost:
    """A running demo host. Stop it with `stop()` or use it as a context manager.

    Attributes:
        url: the endpoint, ``http://127.0.0.1:PORT/wsman``.
        user, password: the Basic credentials (the password is not in the repr).
        sim_host: the simulated host behind the agent (for tests to inspect or step).
        server: the WS-Management server.
        target: a `HostTarget` ready for `open_client`.
    """

    url: str
    user: str
    password: str = field(repr=False)
    sim_host: SimHost = field(repr=False)
    server: WsmanServer = field(repr=False)
    target: HostTarget = field(repr=False)

    def client(self, timeouts: Timeouts | None = None) -> HostClient:
        """A new `HostClient` for this host (connects on its first call).

        It goes by the simulated host's name, not by its loopback address, which means
        nothing to someone trying the demo.
        """
        client = open_client(self.target, timeouts)
        client.name = self.sim_host.name
        return client

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> DemoHost:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_demo(scenario: str = "desktop", *, seed: int | None = None,
               receive_wait: float = 0.5, live: bool = False) -> DemoHost:
    """Load `scenario` and serve it on loopback.

    Args:
        live: let the host live in real time (uptimes grow, demand drifts, Dynamic
            Memory follows it), as the window's demo does. Off by default so that tests
            see exact, unmoving figures.

    Raises:
        ScenarioError: the scenario is missing or invalid.
    """
    sim_host = load_scenario(scenario, seed=seed)
    if live:
        sim_host.living = True
        sim_host.follow_wall_clock(time.monotonic)
    password = secrets.token_urlsafe(18)
    server = WsmanServer(lambda: SimAgent(sim_host), {DEMO_USER: password},
                         receive_wait=receive_wait).start()
    target = HostTarget(url=server.url, auth="basic", user=DEMO_USER, password=password,
                        operation_timeout_s=5, read_timeout_s=15)
    log.info("demo host %r (scenario %s) at %s", sim_host.name, scenario, server.url)
    return DemoHost(server.url, DEMO_USER, password, sim_host, server, target)
