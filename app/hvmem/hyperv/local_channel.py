"""`LocalProcessChannel`: the agent as a local process, over its stdin and stdout pipes.

On Windows, ``--host local`` runs hvmem's agent in a local ``powershell.exe`` with the
same bootstrap as over WinRM (script line first on stdin, then one request per line), so
no WinRM set-up is needed. Tests run the simulator's agent (``hvmem sim agent``) through
the very same channel.

Two reader threads drain stdout (into a queue, so every call keeps its deadline) and
stderr (a bounded tail, for the details of a failure). A call that times out kills the
process; a process that ends is reported with its exit code and stderr; either way the
next call starts a fresh process.
"""

from __future__ import annotations

import itertools
import logging
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from typing import IO, Any

from hvmem.errors import ErrorKind, HvmemError
from hvmem.hyperv import agent_script
from hvmem.hyperv.client import HostClient, Timeouts
from hvmem.hyperv.protocol import LineDecoder, answers_request, encode_request
from hvmem.hyperv.winrm_errors import clixml_text, timeout_error
from hvmem.hyperv.winrm_transport import Deadline

log = logging.getLogger("hvmem.host")

LOCAL_HOST = "local"
STDERR_KEPT = 64 * 1024
EXIT_WAIT_S = 2.0  # how long an ended process may take to report its exit code


class _Process:
    """One running agent process and its two reader threads."""

    def __init__(self, argv: Sequence[str], preamble: bytes,
                 env: Mapping[str, str] | None) -> None:
        self.popen = subprocess.Popen(
            list(argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=dict(env) if env is not None else None,
            creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0))
        self.output: queue.Queue[bytes | None] = queue.Queue()
        self.stderr = b""
        self._stderr_lock = threading.Lock()
        assert self.popen.stdout is not None and self.popen.stderr is not None
        self._threads = [
            threading.Thread(target=self._read_stdout, args=(self.popen.stdout,),
                             name="local-agent-stdout", daemon=True),
            threading.Thread(target=self._read_stderr, args=(self.popen.stderr,),
                             name="local-agent-stderr", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        if preamble:
            self.write(preamble)

    def write(self, data: bytes) -> None:
        """Raises OSError (BrokenPipeError) when the process has gone."""
        assert self.popen.stdin is not None
        self.popen.stdin.write(data)
        self.popen.stdin.flush()

    def stderr_text(self) -> str:
        with self._stderr_lock:
            return clixml_text(self.stderr)

    def kill(self) -> None:
        """End the process and wait for the readers (they stop at end of output)."""
        if self.popen.poll() is None:
            self.popen.kill()
        try:
            self.popen.wait(timeout=EXIT_WAIT_S)
        except subprocess.TimeoutExpired:
            log.warning("local agent %s did not end after kill", self.popen.pid)
        for thread in self._threads:
            thread.join(timeout=EXIT_WAIT_S)
        for pipe in (self.popen.stdin, self.popen.stdout, self.popen.stderr):
            if pipe is not None:
                try:
                    pipe.close()
                except OSError:
                    pass

    def _read_stdout(self, pipe: IO[bytes]) -> None:
        while chunk := os.read(pipe.fileno(), 65536):
            self.output.put(chunk)
        self.output.put(None)  # end of output: the process has ended or closed it

    def _read_stderr(self, pipe: IO[bytes]) -> None:
        while chunk := os.read(pipe.fileno(), 65536):
            with self._stderr_lock:
                self.stderr = (self.stderr + chunk)[-STDERR_KEPT:]


class LocalProcessChannel:
    """A `Channel` to an agent run as a local process; starts it on the first call.

    Args:
        argv: the command that starts the agent.
        preamble: bytes written to its stdin first (the agent script line, for
            PowerShell's bootstrap).
        description: for logs and messages.
        host: the name used in errors.
        env: the process's environment; None inherits hvmem's.
    """

    def __init__(self, argv: Sequence[str], *, preamble: bytes = b"",
                 description: str | None = None, host: str = LOCAL_HOST,
                 env: Mapping[str, str] | None = None) -> None:
        self.argv = list(argv)
        self.preamble = preamble
        self.description = description or f"local process {self.argv[0]}"
        self.host = host
        self.env = env
        self._lock = threading.Lock()
        self._process: _Process | None = None
        self._ids = itertools.count(1)

    @property
    def pid(self) -> int | None:
        """The running agent's process id, if one runs."""
        return self._process.popen.pid if self._process is not None else None

    def call(self, op: str, args: Mapping[str, Any], timeout: float) -> dict[str, Any]:
        deadline = Deadline(timeout)
        request_id = next(self._ids)
        line = encode_request(request_id, op, args)
        with self._lock:
            try:
                return self._exchange(line, request_id, deadline)
            except BaseException:
                self._reset()
                raise

    def close(self) -> None:
        with self._lock:
            self._reset()

    def _exchange(self, line: bytes, request_id: int, deadline: Deadline,
                  ) -> dict[str, Any]:
        process = self._started()
        try:
            process.write(line)
        except OSError:
            raise self._ended(process) from None

        decoder = LineDecoder()
        while True:
            remaining = deadline.remaining()
            if remaining <= 0:
                raise timeout_error(self.host, deadline.seconds,
                                    f"no answer from the local agent within "
                                    f"{deadline.seconds:g} s; the process was ended")
            try:
                chunk = process.output.get(timeout=remaining)
            except queue.Empty:
                continue
            if chunk is None:
                raise self._ended(process)
            for answer in decoder.feed(chunk):
                if answers_request(answer, request_id):
                    return answer
            for stray in decoder.stray:
                log.debug("%s: agent printed: %s", self.host, stray[:500])
            decoder.stray.clear()

    def _started(self) -> _Process:
        if self._process is None:
            log.debug("%s: starting %s", self.host, self.argv[0])
            try:
                self._process = _Process(self.argv, self.preamble, self.env)
            except OSError as exc:
                raise HvmemError(
                    ErrorKind.AGENT, f"Could not start the local agent ({self.argv[0]})",
                    details=f"{type(exc).__name__}: {exc}", host=self.host,
                    hint="Windows PowerShell 5.1 (powershell.exe) must be on PATH.",
                ) from exc
        return self._process

    def _ended(self, process: _Process) -> HvmemError:
        try:
            code: int | None = process.popen.wait(timeout=EXIT_WAIT_S)
        except subprocess.TimeoutExpired:
            code = None
        for thread in process._threads:  # let stderr's reader take the last words
            thread.join(timeout=EXIT_WAIT_S)
        shown = f"exit code {code}" if code is not None else "its output closed"
        return HvmemError(
            ErrorKind.AGENT, f"hvmem's local agent stopped ({shown})",
            details=process.stderr_text() or "(nothing on stderr)", host=self.host,
            hint="The agent's own text is under Details. PowerShell 5.1 and the "
                 "Hyper-V module must be available to this account.")

    def _reset(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.kill()


def local_agent_argv() -> list[str]:
    """The command that starts the PowerShell agent locally (the WinRM start command)."""
    return agent_script.start_command().split(" ")


def open_local_client(timeouts: Timeouts | None = None) -> HostClient:
    """A `HostClient` for this machine's own Hyper-V, through a local PowerShell.

    Raises:
        HvmemError: kind CONFIG when not on Windows.
    """
    if sys.platform != "win32":
        raise HvmemError(
            ErrorKind.CONFIG, "The local host is available only on Windows",
            details=f"This system is {sys.platform}.",
            hint="Connect to a Hyper-V host by name (--host hv01), or try the demo host "
                 "(no --host).")
    channel = LocalProcessChannel(local_agent_argv(), preamble=agent_script.script_line(),
                                  description="local powershell.exe")
    return HostClient(channel, LOCAL_HOST, timeouts)
