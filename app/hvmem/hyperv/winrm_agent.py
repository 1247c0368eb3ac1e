"""One WinRM shell and hvmem's agent in it, run in one of two ways.

* persistent: one long-lived agent process; each request is a Send of one stdin line and
  a Receive of its answer (2 HTTP round trips, no new process).
* per-request: for hosts that deliver stdin only at its end (or where a process cannot be
  kept); each request starts an agent process, sends it the script line and the request
  line with end of input, receives the answer and ends the process (Command, Send,
  Receive, Signal: 4 round trips with the shell kept).

An `AgentSession` is discarded after any failure; `WinrmChannel` decides the mode.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from winrm.exceptions import WinRMOperationTimeoutError

from hvmem.errors import ErrorKind, HvmemError
from hvmem.hyperv import agent_script
from hvmem.hyperv.connect import HostTarget
from hvmem.hyperv.protocol import LineDecoder, answers_request
from hvmem.hyperv.winrm_errors import TRANSPORT_ERRORS, clixml_text
from hvmem.hyperv.winrm_transport import Deadline, build_protocol, fit_to_deadline

log = logging.getLogger("hvmem.host")

CODEPAGE_UTF8 = 65001
STDERR_KEPT = 64 * 1024
CLEANUP_SECONDS = 5.0  # the most closing a shell may add to a failed call


class NoAnswerYet(Exception):
    """The probe time passed with the agent still running and silent (auto mode)."""


class AgentSession:
    """One shell; in it, one long-lived agent or one agent per request.

    Args:
        target: where and how to connect.
        per_request: run one agent process per request instead of one for the session.
    """

    def __init__(self, target: HostTarget, per_request: bool) -> None:
        self.target = target
        self.per_request = per_request
        self.protocol = build_protocol(target)
        self.shell_id: str | None = None
        self.command_id: str | None = None
        self.decoder = LineDecoder()
        self.stderr = b""

    def exchange(self, line: bytes, request_id: int, deadline: Deadline,
                 probe_s: float | None = None) -> dict[str, Any]:
        """Send one request line and return its answer.

        Args:
            probe_s: persistent mode only: raise `NoAnswerYet` if no answer came this
                long after sending while the agent still runs.
        """
        if self.shell_id is None:
            self._budget(deadline)
            self.shell_id = self.protocol.open_shell(codepage=CODEPAGE_UTF8,
                                                     noprofile=True)
        if self.per_request:
            return self._exchange_once(line, request_id, deadline)

        if self.command_id is None:
            self._start_agent(deadline)
            self._budget(deadline)
            self.protocol.send_command_input(self.shell_id, self._command(),
                                             agent_script.script_line())
            log.debug("%s: agent started in shell %s", self.target.host, self.shell_id)
        self._budget(deadline)
        self.protocol.send_command_input(self.shell_id, self._command(), line)
        probe_end = None if probe_s is None else Deadline(probe_s)
        return self._receive(request_id, deadline, probe_end)

    def end_agent(self) -> None:
        """End the long-lived agent (keeping the shell), for a switch of mode."""
        deadline = Deadline(CLEANUP_SECONDS)
        self._end_command(deadline)
        self.decoder = LineDecoder()

    def close(self) -> None:
        """End the agent and delete the shell; failures are logged, not raised."""
        deadline = Deadline(CLEANUP_SECONDS)
        self._end_command(deadline)
        if self.shell_id is not None:
            shell_id = self.shell_id
            self._quietly("close the shell", deadline,
                          lambda: self.protocol.close_shell(shell_id))
        self.protocol.transport.close_session()
        self.shell_id = self.command_id = None

    def _exchange_once(self, line: bytes, request_id: int, deadline: Deadline,
                       ) -> dict[str, Any]:
        """Per-request mode: a fresh agent, fed script, request and end of input."""
        self._start_agent(deadline)
        self._budget(deadline)
        self.protocol.send_command_input(
            str(self.shell_id), self._command(), agent_script.script_line() + line,
            end=True)
        try:
            return self._receive(request_id, deadline, None)
        finally:
            # The answer is in (or the call failed): the process has nothing more to do.
            self._end_command(Deadline(CLEANUP_SECONDS))
            self.decoder = LineDecoder()

    def _start_agent(self, deadline: Deadline) -> None:
        self._budget(deadline)
        # Not console mode: the agent reads stdin as a pipe, line by line.
        self.command_id = self.protocol.run_command(
            str(self.shell_id), agent_script.start_command(), console_mode_stdin=False)

    def _receive(self, request_id: int, deadline: Deadline,
                 probe_end: Deadline | None) -> dict[str, Any]:
        """Receive until the answer to `request_id` arrives or the agent ends."""
        while True:
            probe_left = None if probe_end is None else probe_end.remaining()
            if probe_left is not None and probe_left <= 0:
                raise NoAnswerYet()
            self._budget(deadline, probe_left)
            try:
                stdout, stderr, exit_code, done = self.protocol.get_command_output_raw(
                    str(self.shell_id), self._command())
            except WinRMOperationTimeoutError:
                continue  # no output yet; the deadline decides when to stop
            if stderr:  # kept for the error if the agent dies; a tail is enough
                log.debug("%s: agent stderr: %r", self.target.host, stderr[:500])
                self.stderr = (self.stderr + stderr)[-STDERR_KEPT:]
            answer = self._take_answer(stdout, request_id)
            if answer is not None:
                return answer
            if done:
                raise self._agent_ended(exit_code)

    def _take_answer(self, stdout: bytes, request_id: int) -> dict[str, Any] | None:
        found = None
        for answer in self.decoder.feed(stdout):
            if answers_request(answer, request_id):
                found = answer
            else:
                log.debug("%s: ignored an answer to request %s", self.target.host,
                          answer.get("id"))
        for stray in self.decoder.stray:
            log.debug("%s: agent printed: %s", self.target.host, stray[:500])
        self.decoder.stray.clear()
        return found

    def _agent_ended(self, exit_code: int) -> HvmemError:
        text = clixml_text(self.stderr)
        self.command_id = None  # the process is gone: nothing to signal
        return HvmemError(
            ErrorKind.AGENT, f"hvmem's agent on {self.target.host} stopped "
            f"(exit code {exit_code})", details=text or "(nothing on stderr)",
            host=self.target.host,
            hint="The host's text is under Details. PowerShell 5.1 and the Hyper-V "
                 "module must be available to this account.")

    def _command(self) -> str:
        assert self.command_id is not None
        return self.command_id

    def _end_command(self, deadline: Deadline) -> None:
        if self.shell_id is not None and self.command_id is not None:
            shell_id, command_id = self.shell_id, self.command_id
            self._quietly("end the agent", deadline,
                          lambda: self.protocol.cleanup_command(shell_id, command_id))
        self.command_id = None

    def _budget(self, deadline: Deadline, cap_s: float | None = None) -> None:
        """Fit the next request inside `deadline` (and `cap_s`), or fail with TIMEOUT."""
        fit_to_deadline(self.protocol, self.target, deadline, cap_s)

    def _quietly(self, what: str, deadline: Deadline, action: Callable[[], object],
                 ) -> None:
        try:
            self._budget(deadline)
            action()
        except HvmemError as exc:
            log.warning("%s: could not %s: %s", self.target.host, what, exc)
        except TRANSPORT_ERRORS as exc:
            log.warning("%s: could not %s: %s", self.target.host, what, exc)
