"""WinRS shells and commands: the state behind Create, Command, Send, Receive, Signal and
Delete.

`WinrsService.handle` takes a parsed request and returns the response body, or raises a
`WsmanFault`. It knows nothing of HTTP; the server around it counts and authenticates.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import threading
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

from hvmem.hyperv import agent_script
from hvmem.sim.wsman.processes import (
    AgentFactory,
    AgentProcess,
    Output,
    RefusedProcess,
    SimProcess,
)
from hvmem.sim.wsman.soap import (
    CMD_RESOURCE_URI,
    NS,
    SIGNAL_TERMINATE,
    STATE_DONE,
    STATE_RUNNING,
    SoapRequest,
    WsmanFault,
)


@dataclass
class Shell:
    """One open WinRS shell and its commands."""

    shell_id: str
    owner: str
    codepage: int
    encoding: str
    commands: dict[str, SimProcess] = field(default_factory=dict)


def encoding_for(codepage_text: str) -> tuple[int, str]:
    """The code page a Create asks for (437 when absent) and its Python codec."""
    try:
        codepage = int(codepage_text or "437")
    except ValueError as exc:
        raise _bad_option(f"WINRS_CODEPAGE {codepage_text!r} is not a number") from exc
    name = "utf-8" if codepage == 65001 else f"cp{codepage}"
    try:
        codecs.lookup(name)
    except LookupError as exc:
        raise _bad_option(f"code page {codepage} is not supported") from exc
    return codepage, name


def _bad_option(text: str) -> WsmanFault:
    return WsmanFault("s:Sender", "w:InvalidOptions",
                      f"The WinRS client cannot process the request: {text}.")


class WinrsService:
    """Shells by id, each with its commands.

    Args:
        agent_factory: makes the line handler of each new agent process.
        endpoint: the server's URL, echoed in Create responses.
        receive_wait: the longest a Receive waits for output before w:TimedOut.
        max_shells_per_user: like Windows' MaxShellsPerUser; None for no limit.
        on_event: called with "shell_opened", "shell_closed" or "command_started".
        stdin_at_end: agent processes see their input only once a Send ends it.
    """

    def __init__(self, agent_factory: AgentFactory, endpoint: str, receive_wait: float,
                 max_shells_per_user: int | None,
                 on_event: Callable[[str], None], stdin_at_end: bool = False) -> None:
        self._agent_factory = agent_factory
        self.stdin_at_end = stdin_at_end
        self._endpoint = endpoint
        self._receive_wait = receive_wait
        self._max_shells = max_shells_per_user
        self._on_event = on_event
        self._shells: dict[str, Shell] = {}
        self._lock = threading.Lock()

    def handle(self, request: SoapRequest, user: str) -> str:
        """The response body for one request (without the envelope)."""
        if request.resource_uri and request.resource_uri != CMD_RESOURCE_URI:
            raise WsmanFault("s:Sender", "w:DestinationUnreachable",
                             f"The resource {request.resource_uri} is not served here; "
                             f"the simulated host offers only {CMD_RESOURCE_URI}.",
                             2150858770)
        handlers = {
            "Create": self._create, "Delete": self._delete, "Command": self._command,
            "Send": self._send, "Receive": self._receive, "Signal": self._signal,
        }
        handler = handlers.get(request.short_action)
        if handler is None:
            raise WsmanFault.action_not_supported(request.action)
        return handler(request, user)

    def open_shell_count(self) -> int:
        with self._lock:
            return len(self._shells)

    def close_all(self) -> None:
        """End every process (the server is stopping)."""
        with self._lock:
            shells, self._shells = list(self._shells.values()), {}
        for shell in shells:
            for process in shell.commands.values():
                process.terminate()

    def _create(self, request: SoapRequest, user: str) -> str:
        codepage, encoding = encoding_for(request.options.get("WINRS_CODEPAGE", ""))
        shell = Shell(str(uuid.uuid4()).upper(), user, codepage, encoding)
        with self._lock:
            owned = sum(1 for s in self._shells.values() if s.owner == user)
            if self._max_shells is not None and owned >= self._max_shells:
                raise WsmanFault.shell_quota(self._max_shells)
            self._shells[shell.shell_id] = shell
        self._on_event("shell_opened")
        return (
            f"<x:ResourceCreated><a:Address>{escape(self._endpoint)}</a:Address>"
            f"<a:ReferenceParameters><w:ResourceURI>{CMD_RESOURCE_URI}</w:ResourceURI>"
            f'<w:SelectorSet><w:Selector Name="ShellId">{shell.shell_id}</w:Selector>'
            f"</w:SelectorSet></a:ReferenceParameters></x:ResourceCreated>"
            f"<rsp:Shell><rsp:ShellId>{shell.shell_id}</rsp:ShellId>"
            f"<rsp:ResourceUri>{CMD_RESOURCE_URI}</rsp:ResourceUri>"
            f"<rsp:Owner>{escape(user)}</rsp:Owner><rsp:ClientIP>127.0.0.1</rsp:ClientIP>"
            f"<rsp:IdleTimeOut>PT7200.000S</rsp:IdleTimeOut>"
            f"<rsp:InputStreams>stdin</rsp:InputStreams>"
            f"<rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>"
        )

    def _delete(self, request: SoapRequest, user: str) -> str:
        shell = self._shell(request)
        with self._lock:
            self._shells.pop(shell.shell_id, None)
        for process in shell.commands.values():
            process.terminate()
        self._on_event("shell_closed")
        return ""

    def _command(self, request: SoapRequest, user: str) -> str:
        shell = self._shell(request)
        command_line = _command_line(request)
        process: SimProcess
        if command_line == agent_script.start_command():
            process = AgentProcess(shell.encoding, self._agent_factory(),
                                   self.stdin_at_end)
        else:
            process = RefusedProcess(shell.encoding, command_line)
        command_id = str(uuid.uuid4()).upper()
        with self._lock:
            shell.commands[command_id] = process
        self._on_event("command_started")
        return (f"<rsp:CommandResponse><rsp:CommandId>{command_id}</rsp:CommandId>"
                f"</rsp:CommandResponse>")

    def _send(self, request: SoapRequest, user: str) -> str:
        shell = self._shell(request)
        for stream in _body_all(request, "rsp:Send/rsp:Stream"):
            process = self._process(shell, stream.get("CommandId"))
            try:
                data = base64.b64decode((stream.text or "").strip(), validate=True)
            except binascii.Error as exc:
                raise WsmanFault.schema_validation(
                    f"stdin is not base64: {exc}.") from exc
            process.write_stdin(data, end=(stream.get("End") or "").lower() == "true")
        return "<rsp:SendResponse/>"

    def _receive(self, request: SoapRequest, user: str) -> str:
        shell = self._shell(request)
        desired = _body_all(request, "rsp:Receive/rsp:DesiredStream")
        command_id = desired[0].get("CommandId") if desired else None
        process = self._process(shell, command_id)
        wait = self._receive_wait
        if request.operation_timeout is not None:
            wait = min(wait, request.operation_timeout)

        output = process.read_output(wait)
        if output is None:
            raise WsmanFault.timed_out()
        return _receive_body(str(command_id), output)

    def _signal(self, request: SoapRequest, user: str) -> str:
        shell = self._shell(request)
        signal = _body_all(request, "rsp:Signal")
        command_id = signal[0].get("CommandId") if signal else None
        process = self._process(shell, command_id)
        code = signal[0].find("rsp:Code", NS) if signal else None
        if code is not None and (code.text or "").strip() == SIGNAL_TERMINATE:
            process.terminate()
            with self._lock:
                shell.commands.pop(str(command_id), None)
        return "<rsp:SignalResponse/>"

    def _shell(self, request: SoapRequest) -> Shell:
        with self._lock:
            shell = self._shells.get(request.shell_id or "")
        if shell is None:
            raise WsmanFault.invalid_selectors(
                f"No shell has the id {request.shell_id!r}.")
        return shell

    def _process(self, shell: Shell, command_id: str | None) -> SimProcess:
        with self._lock:
            process = shell.commands.get(command_id or "")
        if process is None:
            raise WsmanFault.invalid_selectors(
                f"Shell {shell.shell_id} has no command with the id {command_id!r}.")
        return process


def _command_line(request: SoapRequest) -> str:
    """Command and arguments as one line: pywinrm sends one Arguments, pypsrp several."""
    command = _body_all(request, "rsp:CommandLine/rsp:Command")
    if not command:
        raise WsmanFault.schema_validation("The Command request has no rsp:Command.")
    parts = [(command[0].text or "").strip()]
    parts += [(node.text or "") for node in
              _body_all(request, "rsp:CommandLine/rsp:Arguments")]
    return " ".join(part for part in parts if part)


def _body_all(request: SoapRequest, path: str) -> list[ET.Element]:
    return [] if request.body is None else request.body.findall(path, NS)


def _receive_body(command_id: str, output: Output) -> str:
    cid = quoteattr(command_id)
    parts = ["<rsp:ReceiveResponse>"]
    for name, data in (("stdout", output.stdout), ("stderr", output.stderr)):
        if data:
            encoded = base64.b64encode(data).decode("ascii")
            parts.append(f'<rsp:Stream Name="{name}" CommandId={cid}>{encoded}'
                         f"</rsp:Stream>")
    if output.exit_code is None:
        parts.append(f'<rsp:CommandState CommandId={cid} State="{STATE_RUNNING}"/>')
    else:
        parts.append(f'<rsp:Stream Name="stdout" CommandId={cid} End="true"/>'
                     f'<rsp:Stream Name="stderr" CommandId={cid} End="true"/>'
                     f'<rsp:CommandState CommandId={cid} State="{STATE_DONE}">'
                     f"<rsp:ExitCode>{output.exit_code}</rsp:ExitCode>"
                     f"</rsp:CommandState>")
    parts.append("</rsp:ReceiveResponse>")
    return "".join(parts)
