"""`hvmem sim serve` and `hvmem sim agent`: the simulated host from the command line.

`serve` puts a scenario behind the loopback WinRM endpoint, so any WinRM client (hvmem in
another process, pywinrm in a script) can use it; its first line of output is the URL.
`agent` answers agent requests on stdin and stdout, as the PowerShell agent would.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import signal
import sys
import threading
import time
from types import FrameType
from typing import Any

from hvmem.errors import HvmemError

PASSWORD_ENV = "HVMEM_SIM_PASSWORD"
EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


def add_parser(commands: Any) -> None:
    """Register `sim serve` and `sim agent` under the `hvmem` command's subparsers."""
    sim = commands.add_parser("sim", help="run the simulated Hyper-V host")
    actions = sim.add_subparsers(dest="sim_command", metavar="ACTION", required=True)

    serve = actions.add_parser(
        "serve", help="serve a scenario over WinRM on loopback",
        description=f"Serve a simulated host at http://127.0.0.1:PORT/wsman with Basic "
        f"auth. The password is read from {PASSWORD_ENV}. The first line printed is "
        f"the URL. Runs until interrupted.")
    serve.add_argument("--scenario", default="desktop", metavar="NAME|FILE",
                       help="a bundled scenario name or a scenario file "
                       "(default desktop)")
    serve.add_argument("--listen", default="127.0.0.1:0", metavar="127.0.0.1:PORT",
                       help="loopback address and port; port 0 picks a free one")
    serve.add_argument("--user", default="demo", help="the user clients log in as")
    serve.add_argument("--seed", type=int, default=None, help="seed for the living model")
    serve.add_argument("--live", action="store_true",
                       help="let the host live in real time (demand drifts, Dynamic "
                       "Memory follows it); figures stay put without it")
    serve.set_defaults(handler=run_serve)

    agent = actions.add_parser(
        "agent", help="answer agent requests on stdin/stdout",
        description="Answer one JSON request per stdin line with one marked answer line.")
    agent.add_argument("--scenario", default="desktop", metavar="NAME|FILE")
    agent.add_argument("--seed", type=int, default=None)
    agent.set_defaults(handler=run_agent)


def parse_listen(text: str) -> tuple[str, int]:
    """("127.0.0.1", port) from "HOST:PORT"; only loopback addresses are accepted.

    Raises:
        ValueError: with a message for the user.
    """
    host, sep, port_text = text.rpartition(":")
    if not sep or not port_text.isdigit() or int(port_text) > 65535:
        raise ValueError(f"--listen {text!r}: expected 127.0.0.1:PORT")
    host = "127.0.0.1" if host == "localhost" else host
    try:
        loopback = ipaddress.IPv4Address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"--listen {text!r}: the simulated host listens on loopback "
                         f"only (127.0.0.1), since it accepts Basic auth over plain HTTP")
    return host, int(port_text)


def run_serve(args: argparse.Namespace) -> int:
    password = os.environ.get(PASSWORD_ENV)
    if not password:
        print(f"hvmem sim serve: set {PASSWORD_ENV} to the password clients must use "
              f"(it is not taken on the command line, where other users could read it)",
              file=sys.stderr)
        return EXIT_USAGE
    try:
        host, port = parse_listen(args.listen)
    except ValueError as exc:
        print(f"hvmem sim serve: {exc}", file=sys.stderr)
        return EXIT_USAGE

    from hvmem.sim.agent import SimAgent
    from hvmem.sim.scenario import load_scenario
    from hvmem.sim.wsman import WsmanServer

    try:
        sim_host = load_scenario(args.scenario, seed=args.seed)
        if getattr(args, "live", False):
            sim_host.living = True
            sim_host.follow_wall_clock(time.monotonic)
        server = WsmanServer(lambda: SimAgent(sim_host), {args.user: password},
                             host=host, port=port)
    except HvmemError as exc:
        print(f"hvmem sim serve: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except OSError as exc:
        print(f"hvmem sim serve: cannot listen on {args.listen}: {exc}", file=sys.stderr)
        return EXIT_FAILURE

    stop = threading.Event()
    _on_signals(lambda: stop.set())
    server.start()
    print(server.url, flush=True)
    # stdout's first line is the URL for scripts; people read stderr for how to connect.
    print(f"Simulated host {sim_host.name} serving Basic auth for user {args.user!r}. "
          f"Connect with:\n  HVMEM_PASSWORD=<the same password> hvmem list --host "
          f"{server.url} --auth basic --user {args.user}\nStop with Ctrl+C.",
          file=sys.stderr, flush=True)
    try:
        while not stop.wait(0.5):  # a timed wait keeps signal handling prompt
            pass
    finally:
        server.stop()
    return EXIT_OK


def run_agent(args: argparse.Namespace) -> int:
    from hvmem.sim.agent import SimAgent, run_stdio
    from hvmem.sim.scenario import load_scenario

    try:
        sim_host = load_scenario(args.scenario, seed=args.seed)
    except HvmemError as exc:
        print(f"hvmem sim agent: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    return run_stdio(SimAgent(sim_host), sys.stdin, sys.stdout)


def _on_signals(action: Any) -> None:
    def handler(signum: int, frame: FrameType | None) -> None:
        action()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
