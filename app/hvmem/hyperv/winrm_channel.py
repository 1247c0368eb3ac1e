"""`WinrmChannel`: agent requests over one WinRM shell, at the protocol's floor in cost.

The channel opens a shell (code page 65001, so names outside ASCII survive) and runs
hvmem's agent in it (see `winrm_agent`). With a long-lived agent each call costs two HTTP
round trips: a Send with the request line and a Receive that returns the answer.
pywinrm's `get_command_output` retries operation timeouts forever, so the session drives
`get_command_output_raw` itself, under each call's own deadline.

Agent mode "auto" starts a long-lived agent and asks it ``hello`` first (cheap, and a
read: it touches no Hyper-V cmdlet, so a slow host's Get-VM cannot be mistaken for a
silent agent). If no answer comes within the probe time while the agent still runs, the
host is taken to deliver stdin only at its end, and the channel switches to one agent
per request for good, asking ``hello`` again once. A write is never the probe.

After any transport failure the shell is closed and the next call opens a new one; a
request is never resent by the channel, since a write may already have reached the host.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

from hvmem.hyperv.connect import HostTarget
from hvmem.hyperv.protocol import encode_request
from hvmem.hyperv.winrm_agent import CLEANUP_SECONDS, AgentSession, NoAnswerYet
from hvmem.hyperv.winrm_errors import TRANSPORT_ERRORS, translate
from hvmem.hyperv.winrm_transport import Deadline, check_extras

log = logging.getLogger("hvmem.host")

class WinrmChannel:
    """A `Channel` to one host's agent over WinRM; connects on the first call.

    Args:
        target: where and how to connect; checked now (kind CONFIG if refused, or if
            Kerberos or CredSSP lacks its optional extra).
    """

    def __init__(self, target: HostTarget) -> None:
        target.check()
        check_extras(target)
        self.target = target
        self.description = f"winrm {target.url}"
        self._lock = threading.Lock()
        self._session: AgentSession | None = None
        self._close_requested = False
        self._ids = itertools.count(1)
        # "persistent" or "per-request" once known; None while auto mode is undecided.
        self._mode: str | None = None if target.agent_mode == "auto" else target.agent_mode

    @property
    def agent_mode(self) -> str:
        """The mode in use: "persistent", "per-request", or "auto" until decided."""
        return self._mode or "auto"

    def call(self, op: str, args: Mapping[str, Any], timeout: float) -> dict[str, Any]:
        deadline = Deadline(timeout)
        with self._lock:
            self._close_requested = False
            try:
                if self._mode is None and op == "hello":
                    return self._guarded(deadline,
                                         lambda: self._probe(op, args, deadline))
                if self._mode is None:
                    self._guarded(deadline, lambda: self._probe("hello", {}, deadline))
                return self._guarded(deadline, lambda: self._send(op, args, deadline))
            except BaseException:
                self._reset()
                raise
            finally:
                if self._close_requested:
                    self._reset()

    def close(self) -> None:
        """Close the shell; if a call is in flight, as soon as it ends."""
        if not self._lock.acquire(timeout=CLEANUP_SECONDS):
            log.warning("%s: a call is still running; the shell closes when it ends",
                        self.target.host)
            self._close_requested = True
            return
        try:
            self._reset()
        finally:
            self._lock.release()

    def _send(self, op: str, args: Mapping[str, Any], deadline: Deadline,
              probe_s: float | None = None) -> dict[str, Any]:
        request_id = next(self._ids)
        line = encode_request(request_id, op, args)
        if self._session is None:
            self._session = AgentSession(self.target, self._mode == "per-request")
        return self._session.exchange(line, request_id, deadline, probe_s)

    def _probe(self, op: str, args: Mapping[str, Any], deadline: Deadline,
               ) -> dict[str, Any]:
        """Auto mode's probe, a read (only reads may be asked twice): a long-lived
        agent first, one agent per request if it stays silent."""
        try:
            answer = self._send(op, args, deadline, probe_s=self.target.probe_s)
        except NoAnswerYet:
            log.warning("%s: the agent did not answer within %g s although it runs; "
                        "the host seems to deliver input only at its end, so hvmem "
                        "starts one agent per request from now on", self.target.host,
                        self.target.probe_s)
            assert self._session is not None
            self._session.end_agent()
            self._session.per_request = True
            self._mode = "per-request"
            return self._send(op, args, deadline)
        self._mode = "persistent"
        return answer

    def _guarded(self, deadline: Deadline, action: Callable[[], Any]) -> Any:
        try:
            return action()
        except TRANSPORT_ERRORS as exc:
            raise translate(exc, self.target.url, self.target.user,
                            deadline.seconds) from exc

    def _reset(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            session.close()
