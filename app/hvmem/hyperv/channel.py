"""Channels carry agent requests to a host and bring the answers back.

Every transport (a WinRM shell, a local process, the simulator in-process) implements
`Channel`. A channel is used by one thread at a time; `HostClient` serialises callers.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from hvmem.hyperv.protocol import (
    LineDecoder,
    ProtocolError,
    answers_request,
    encode_request,
)


class Channel(Protocol):
    """A way to send one agent request and wait for its answer."""

    #: A short description for logs and messages, such as "winrm https://hv01:5986/wsman".
    description: str

    def call(self, op: str, args: Mapping[str, Any], timeout: float) -> dict[str, Any]:
        """Send one request and return the whole answer (``ok`` true or false).

        Raises:
            HvmemError: the transport failed (unreachable, timeout, refused credentials...).
            ProtocolError: the agent answered something that is not an answer.
        """
        ...

    def close(self) -> None:
        """Release the transport; safe to call twice and after a failure."""
        ...


class InProcessChannel:
    """Feeds request lines to an in-process line handler (the simulator's agent).

    The lines still go through the protocol's encoder and decoder, so tests that use it
    exercise the same framing as the real transports.
    """

    def __init__(self, handle_line: Callable[[str], str], description: str) -> None:
        self._handle_line = handle_line
        self._ids = itertools.count(1)
        self.description = description

    def call(self, op: str, args: Mapping[str, Any], timeout: float) -> dict[str, Any]:
        request_id = next(self._ids)
        line = encode_request(request_id, op, args).decode("utf-8")
        decoder = LineDecoder()
        answers = decoder.feed((self._handle_line(line) + "\n").encode("utf-8"))
        for answer in answers:
            if answers_request(answer, request_id):
                return answer
        others = [answer.get("id") for answer in answers]
        raise ProtocolError(f"no answer to request {request_id} (answers to {others!r}); "
                            f"other output: {decoder.stray!r:.500}")

    def close(self) -> None:
        pass
