"""Which hosts the window opens with: the one given, the saved ones, or the demo host.

`plan_startup` reads the command line and the saved hosts (`hvmem.hosts`) and returns a
`Startup`: sessions to show at once, saved hosts whose password must be asked for (the
keyring has none, no keyring works, or their settings cannot work as they are), and
problems to show once the window is up (a damaged hosts file). Nothing here touches the
network: a saved host's client connects on the window's first poll, so one host that
does not answer shows as failing in the hosts pane and never holds up the window.

Order of choice: `--demo` opens the demo host; `--host` opens that host (as `hvmem
list` would); otherwise every saved host opens; only with no host given or saved does
the demo host start.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass, field

from hvmem.errors import HvmemError
from hvmem.gui.session import HostSession
from hvmem.hosts import CredentialStore, SavedHost, load_hosts
from hvmem.hyperv.connect import PASSWORD_METHODS, open_client

log = logging.getLogger("hvmem.gui")

@dataclass(frozen=True)
class PasswordRequest:
    """A saved host the window cannot open by itself, and why it asks.

    Attributes:
        host: the saved host (the Connect to Server dialog opens filled with it).
        reason: one or two sentences for the person, saying why hvmem asks.
    """

    host: SavedHost
    reason: str


@dataclass
class Startup:
    """What the window opens with."""

    sessions: list[HostSession] = field(default_factory=list)
    ask: list[PasswordRequest] = field(default_factory=list)
    problems: list[HvmemError] = field(default_factory=list)

    def close(self) -> None:
        """Close every session (when the window could not open)."""
        for session in self.sessions:
            try:
                session.close()
            except Exception as exc:  # noqa: BLE001 - the others must still close
                log.warning("closing %s failed: %s", session.name, exc)


def plan_startup(args: argparse.Namespace,
                 credentials: CredentialStore | None = None) -> Startup:
    """The hosts to open for `args` (see the module docstring for the order).

    Raises:
        HvmemError: for `--host`, settings that cannot work or no password (told as a
            start failure, as `hvmem list` would tell it).
    """
    from hvmem.gui.app import DEMO_SCENARIO, open_demo_session, open_host_session

    scenario = getattr(args, "scenario", None) or DEMO_SCENARIO
    if getattr(args, "demo", False):
        return Startup([open_demo_session(scenario)])
    if getattr(args, "host", None):
        return Startup([open_host_session(args)])

    try:
        saved = load_hosts()
    except HvmemError as error:
        # The hosts are there but unreadable: say so in the window, start no demo.
        return Startup(problems=[error])
    if not saved:
        return Startup([open_demo_session(scenario)])

    startup = Startup()
    store = credentials or CredentialStore()
    for host in saved:
        session_or_request = open_saved_host(host, store)
        if isinstance(session_or_request, PasswordRequest):
            startup.ask.append(session_or_request)
        else:
            startup.sessions.append(session_or_request)
    log.info("window opens %d saved host(s); %d ask for a password",
             len(startup.sessions), len(startup.ask))
    return startup


def open_saved_host(host: SavedHost,
                    credentials: CredentialStore) -> HostSession | PasswordRequest:
    """A session for `host` with its password from the keyring, or why one is needed."""
    password = ""
    if host.auth in PASSWORD_METHODS and host.user:
        try:
            password = credentials.get(host.user, host.url) or ""
        except HvmemError as error:  # a locked or broken keyring
            return PasswordRequest(host, f"{error.summary}. {error.hint}")
        if not password:
            return PasswordRequest(host, _why_asking(host, credentials))

    target = host.to_target(password)
    try:
        target.check()
        client = open_client(target)
    except HvmemError as error:
        hint = f" {error.hint}" if error.hint else ""
        return PasswordRequest(host, f"The saved settings for {host.display_name} cannot "
                                     f"work as they are: {error.summary}.{hint}")
    return HostSession(client, host.display_name, simulated=False,
                       closers=[client.close], url=target.url)


def _why_asking(host: SavedHost, credentials: CredentialStore) -> str:
    who = f"{host.user} on {host.display_name}"
    if not credentials.available:
        # The Account box below says why no keyring works (`why_not`).
        return (f"No password is saved for {who}, and hvmem cannot save one on this "
                "computer (see Account). Type it to connect.")
    return (f"The system keyring holds no password for {who}. Type it to connect; tick "
            "Remember to keep it in the keyring.")
