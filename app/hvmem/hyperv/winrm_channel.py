"""`WinrmChannel`: agent requests over one WinRM shell with one long-lived agent process.

The channel opens a shell (code page 65001, so names outside ASCII survive), starts the
agent with its short bootstrap command, and feeds it the script as the first stdin line.
Each call then costs two HTTP round trips: a Send with the request line and a Receive that
returns the answer. pywinrm's `get_command_output` retries operation timeouts forever, so
the channel drives `get_command_output_raw` itself, under each call's own deadline.

After any transport failure the shell is closed and the next call opens a new one; a
request is never resent by the channel, since a write may already have reached the host.
"""

from __future__ import annotations

import itertools
import logging
import math
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests
from winrm.exceptions import WinRMError, WinRMOperationTimeoutError
from winrm.protocol import Protocol

from hvmem.errors import ErrorKind, HvmemError
from hvmem.hyperv import agent_script
from hvmem.hyperv.connect import HostTarget, normalise_fingerprint
from hvmem.hyperv.protocol import LineDecoder, encode_request
from hvmem.hyperv.winrm_errors import (
    TRANSPORT_ERRORS,
    clixml_text,
    timeout_error,
    translate,
)

log = logging.getLogger("hvmem.host")

CODEPAGE_UTF8 = 65001
STDERR_KEPT = 64 * 1024
CLEANUP_SECONDS = 5.0  # the most closing a shell may add to a failed call


class Deadline:
    """A point in time a call must finish by."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def remaining(self) -> float:
        return self._end - time.monotonic()


class _TrustAdapter(requests.adapters.HTTPAdapter):
    """How an https host's certificate is trusted when no CA file is chosen.

    With a pinned fingerprint, urllib3 compares the certificate's SHA-256 with it. Without
    one, the operating system's store is trusted (on Windows, where a domain's CA usually
    lives), on top of requests' own bundle.
    """

    def __init__(self, fingerprint: str | None) -> None:
        self._fingerprint = fingerprint
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        if self._fingerprint:
            kwargs["assert_fingerprint"] = self._fingerprint
        else:
            kwargs["ssl_context"] = ssl.create_default_context()
        super().init_poolmanager(*args, **kwargs)


def build_protocol(target: HostTarget) -> Protocol:
    """pywinrm's `Protocol` for `target`, with no proxy or CA taken from the environment.

    Raises:
        HvmemError: kind CONFIG when pywinrm refuses the settings.
    """
    target.check()
    try:
        protocol = Protocol(
            endpoint=target.url,
            transport=target.auth,
            username=target.user or None,
            password=target.password,
            ca_trust_path=target.ca_trust_path,  # type: ignore[arg-type]
            cert_pem=target.cert_pem,
            cert_key_pem=target.cert_key_pem,
            server_cert_validation=("validate" if target.verify_tls
                                    and not target.cert_fingerprint else "ignore"),
            read_timeout_sec=target.read_timeout_s,
            operation_timeout_sec=target.operation_timeout_s,
            proxy=target.proxy,
        )
    except (WinRMError, ValueError) as exc:
        raise HvmemError(ErrorKind.CONFIG, f"pywinrm refused the settings for "
                         f"{target.host}", details=str(exc), host=target.host,
                         hint="Check the authentication method and certificate files; "
                              "Kerberos and CredSSP need pywinrm's extras.") from exc
    # Only for https: over http, building the session may already send a request.
    if target.uses_tls and target.cert_fingerprint:
        session = protocol.transport.build_session()
        session.mount("https://", _TrustAdapter(
            normalise_fingerprint(target.cert_fingerprint)))
        session.verify = False
    elif target.uses_tls and target.verify_tls and target.ca_trust_path is None:
        protocol.transport.build_session().mount("https://", _TrustAdapter(None))
    return protocol


class _AgentSession:
    """One shell with one agent process in it; discarded after any failure."""

    def __init__(self, target: HostTarget) -> None:
        self.target = target
        self.protocol = build_protocol(target)
        self.shell_id: str | None = None
        self.command_id: str | None = None
        self.decoder = LineDecoder()
        self.stderr = b""

    def start(self, deadline: Deadline) -> None:
        self._budget(deadline)
        self.shell_id = self.protocol.open_shell(codepage=CODEPAGE_UTF8, noprofile=True)
        self._budget(deadline)
        # Not console mode: the agent reads stdin as a pipe, line by line.
        self.command_id = self.protocol.run_command(
            self.shell_id, agent_script.start_command(), console_mode_stdin=False)
        self._budget(deadline)
        self.protocol.send_command_input(self.shell_id, self.command_id,
                                         agent_script.script_line())
        log.debug("%s: agent started in shell %s", self.target.host, self.shell_id)

    def exchange(self, line: bytes, request_id: int, deadline: Deadline,
                 ) -> dict[str, Any]:
        """Send one request line and read output until its answer arrives."""
        assert self.shell_id is not None and self.command_id is not None
        self._budget(deadline)
        self.protocol.send_command_input(self.shell_id, self.command_id, line)
        while True:
            self._budget(deadline)
            try:
                stdout, stderr, exit_code, done = self.protocol.get_command_output_raw(
                    self.shell_id, self.command_id)
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

    def close(self) -> None:
        """Terminate the agent and delete the shell; failures are logged, not raised."""
        deadline = Deadline(CLEANUP_SECONDS)
        if self.shell_id is not None and self.command_id is not None:
            self._quietly("end the agent", deadline,
                          lambda: self.protocol.cleanup_command(
                              str(self.shell_id), str(self.command_id)))
        if self.shell_id is not None:
            self._quietly("close the shell", deadline,
                          lambda: self.protocol.close_shell(str(self.shell_id)))
        self.protocol.transport.close_session()
        self.shell_id = self.command_id = None

    def _take_answer(self, stdout: bytes, request_id: int) -> dict[str, Any] | None:
        found = None
        for answer in self.decoder.feed(stdout):
            if answer.get("id") == request_id:
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

    def _budget(self, deadline: Deadline) -> None:
        """Fit the next HTTP request inside the deadline, or fail with TIMEOUT."""
        remaining = deadline.remaining()
        if remaining <= 0:
            raise timeout_error(self.target.host, deadline.seconds,
                                f"no answer from the agent within {deadline.seconds:g} s")
        operation = max(1, min(self.target.operation_timeout_s, int(remaining)))
        read = min(self.target.read_timeout_s, max(operation + 1, math.ceil(remaining)))
        self.protocol.operation_timeout_sec = operation
        self.protocol.transport.read_timeout_sec = read

    def _quietly(self, what: str, deadline: Deadline, action: Callable[[], object],
                 ) -> None:
        try:
            self._budget(deadline)
            action()
        except HvmemError as exc:
            log.warning("%s: could not %s: %s", self.target.host, what, exc)
        except TRANSPORT_ERRORS as exc:
            log.warning("%s: could not %s: %s", self.target.host, what, exc)


class WinrmChannel:
    """A `Channel` to one host's agent over WinRM; connects on the first call.

    Args:
        target: where and how to connect; checked now (kind CONFIG if refused).
    """

    def __init__(self, target: HostTarget) -> None:
        target.check()
        self.target = target
        self.description = f"winrm {target.url}"
        self._lock = threading.Lock()
        self._session: _AgentSession | None = None
        self._close_requested = False
        self._ids = itertools.count(1)

    def call(self, op: str, args: Mapping[str, Any], timeout: float) -> dict[str, Any]:
        deadline = Deadline(timeout)
        request_id = next(self._ids)
        line = encode_request(request_id, op, args)
        with self._lock:
            self._close_requested = False
            try:
                if self._session is None:
                    self._session = _AgentSession(self.target)
                    self._guarded(deadline, lambda: self._started(deadline))
                return self._guarded(
                    deadline, lambda: self._exchange(line, request_id, deadline))
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

    def _started(self, deadline: Deadline) -> None:
        assert self._session is not None
        self._session.start(deadline)

    def _exchange(self, line: bytes, request_id: int, deadline: Deadline,
                  ) -> dict[str, Any]:
        assert self._session is not None
        return self._session.exchange(line, request_id, deadline)

    def _guarded(self, deadline: Deadline, action: Callable[[], Any]) -> Any:
        try:
            return action()
        except HvmemError:
            raise
        except TRANSPORT_ERRORS as exc:
            raise translate(exc, self.target.url, self.target.user,
                            deadline.seconds) from exc

    def _reset(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            session.close()
