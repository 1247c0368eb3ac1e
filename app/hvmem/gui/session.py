"""`HostSession`: one connected host as the window sees it (client, name, how to close).

The window gets a session, not a connection recipe, so it works the same on the demo host,
a real host or a test's stub; whoever opened the session decides how to close it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from hvmem.hyperv.client import HostClient


@dataclass
class HostSession:
    """A host the window talks to.

    Attributes:
        client: the host's typed client (used only from worker threads).
        name: the host's name for the title and messages.
        simulated: true for the built-in demo host; the title says so.
        closers: called once, in order, when the window is done with the host.
        url: the canonical WinRM URL it was opened with ("" when not known, as for the
            demo host): the window opens each URL once.
    """

    client: HostClient
    name: str
    simulated: bool = False
    closers: list[Callable[[], None]] = field(default_factory=list)
    url: str = ""

    @property
    def title(self) -> str:
        """How the window names the host."""
        return f"{self.name} (simulated Hyper-V host)" if self.simulated else self.name

    def close(self) -> None:
        """Run the closers; each runs at most once, even if one fails."""
        closers, self.closers = self.closers, []
        failures = []
        for closer in closers:
            try:
                closer()
            except Exception as exc:  # noqa: BLE001 - the other closers must still run
                failures.append(exc)
        if failures:
            raise failures[0]
