"""The "processes" a simulated WinRS command runs: hvmem's agent, or a refusal.

A process has a stdin fed by Send, stdout and stderr drained by Receive, and an exit code
once it ends. The agent process runs on its own thread, like a real powershell.exe, so a
handler that hangs delays only its own answers, and Receive can time out around it.
"""

from __future__ import annotations

import binascii
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol
from xml.sax.saxutils import escape

from hvmem.hyperv import agent_script

log = logging.getLogger("hvmem.sim")


class LineHandler(Protocol):
    """What answers the agent's request lines (the simulator's `SimAgent`)."""

    def handle_line(self, line: str) -> str:
        """One request line in, one answer line out (without a newline)."""
        ...


AgentFactory = Callable[[], LineHandler]


@dataclass(frozen=True)
class Output:
    """What one Receive takes from a process; `exit_code` is set once it has ended."""

    stdout: bytes
    stderr: bytes
    exit_code: int | None


def clixml_error(message: str) -> str:
    """stderr text in the shape powershell.exe writes an error record in."""
    lines = message.replace("\r\n", "\n").split("\n")
    records = "".join(
        f'<S S="Error">{_clixml_escape(escape(line))}_x000D__x000A_</S>' for line in lines
    )
    return (
        '#< CLIXML\r\n<Objs Version="1.1.0.1" '
        f'xmlns="http://schemas.microsoft.com/powershell/2004/04">{records}</Objs>'
    )


def _clixml_escape(text: str) -> str:
    # PowerShell escapes control characters as _xHHHH_; an underscore that would start
    # such an escape is itself escaped.
    out = []
    for char in text:
        if char == "_" or ord(char) < 0x20:
            out.append(f"_x{ord(char):04X}_")
        else:
            out.append(char)
    return "".join(out)


class SimProcess:
    """Base process: output buffers and an exit code, guarded by one condition."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._changed = threading.Condition()
        self._stdout = bytearray()
        self._stderr = bytearray()
        self._exit_code: int | None = None

    def write_stdin(self, data: bytes, end: bool) -> None:
        """Input from a Send; the base process ignores it."""

    def read_output(self, wait: float) -> Output | None:
        """Everything buffered, waiting up to `wait` s for some; None if nothing came."""
        with self._changed:
            self._changed.wait_for(self._has_output, timeout=wait)
            if not self._has_output():
                return None
            output = Output(bytes(self._stdout), bytes(self._stderr), self._exit_code)
            self._stdout.clear()
            self._stderr.clear()
            return output

    def terminate(self) -> None:
        """The Signal terminate: end now, dropping what was not read."""
        with self._changed:
            if self._exit_code is None:
                self._exit_code = -1073741510  # STATUS_CONTROL_C_EXIT, as Windows reports
            self._changed.notify_all()

    @property
    def ended(self) -> bool:
        with self._changed:
            return self._exit_code is not None

    def _has_output(self) -> bool:
        return bool(self._stdout or self._stderr) or self._exit_code is not None

    def _emit(self, stdout: str = "", stderr: str = "", exit_code: int | None = None,
              ) -> None:
        with self._changed:
            if self._exit_code is not None:
                return  # terminated: a real process would be gone
            self._stdout += stdout.encode(self.encoding, errors="replace")
            self._stderr += stderr.encode(self.encoding, errors="replace")
            if exit_code is not None:
                self._exit_code = exit_code
            self._changed.notify_all()


class RefusedProcess(SimProcess):
    """Any command other than hvmem's agent: the simulated host says what it runs."""

    def __init__(self, encoding: str, command_line: str) -> None:
        super().__init__(encoding)
        shown = command_line if len(command_line) <= 120 else command_line[:117] + "..."
        self._emit(stderr=clixml_error(
            "This is a simulated Hyper-V host: it runs only hvmem's agent, started by "
            f"hvmem itself. It refused the command: {shown}"
        ), exit_code=1)


class AgentProcess(SimProcess):
    """hvmem's agent: the script line first, then one answer per request line.

    Args:
        encoding: the shell's code page as a Python codec.
        handler: answers request lines; made fresh for this process.
        stdin_at_end: hold back all input until a Send marks its end, like a host whose
            stdin is not delivered line by line.
    """

    def __init__(self, encoding: str, handler: LineHandler,
                 stdin_at_end: bool = False) -> None:
        super().__init__(encoding)
        self._handler = handler
        self._stdin_at_end = stdin_at_end
        self._held = bytearray()
        self._stdin = bytearray()
        self._stdin_ended = False
        self._script_checked = False
        self._thread = threading.Thread(target=self._run, name="sim-agent", daemon=True)
        self._thread.start()

    def write_stdin(self, data: bytes, end: bool) -> None:
        with self._changed:
            if self._stdin_at_end and not end:
                self._held += data
                return
            self._stdin += self._held + data
            self._held.clear()
            self._stdin_ended = self._stdin_ended or end
            self._changed.notify_all()

    def _next_line(self) -> bytes | None:
        """The next input line, or None at end of input or once terminated."""
        with self._changed:
            self._changed.wait_for(
                lambda: b"\n" in self._stdin or self._stdin_ended
                or self._exit_code is not None
            )
            if self._exit_code is not None:
                return None
            if b"\n" in self._stdin:
                line, _, rest = bytes(self._stdin).partition(b"\n")
                self._stdin[:] = rest
                return line
            line = bytes(self._stdin)
            self._stdin.clear()
            return line or None

    def _run(self) -> None:
        while (line := self._next_line()) is not None:
            if not self._script_checked:
                if not self._check_script(line):
                    return
                self._script_checked = True
                continue
            text = line.decode("utf-8", errors="replace").strip("\r\ufeff")
            if text.strip():
                self._answer(text)
        self._emit(exit_code=0)

    def _check_script(self, line: bytes) -> bool:
        try:
            script = agent_script.decode_script_line(line)
        except (binascii.Error, UnicodeError, ValueError) as exc:
            problem = f"it is not base64 of UTF-8 text ({exc})"
        else:
            if script == agent_script.agent_source():
                return True
            problem = "it decodes to a script other than this version's agent"
        self._emit(stderr=clixml_error(
            "The agent did not start: the first line of input must be hvmem's agent "
            f"script in base64, but {problem}.\r\n"
            "    + CategoryInfo          : InvalidData: (:) [], "
            "ParentContainsErrorRecordException\r\n"
            "    + FullyQualifiedErrorId : HvmemAgentScriptMismatch"
        ), exit_code=1)
        return False

    def _answer(self, text: str) -> None:
        try:
            answer = self._handler.handle_line(text)
        except Exception as exc:  # a stand-in handler crashed: a real process would die
            log.exception("simulated agent handler failed")
            self._emit(stderr=clixml_error(f"The agent stopped: {exc!r}"), exit_code=1)
            return
        self._emit(stdout=answer + "\r\n")
