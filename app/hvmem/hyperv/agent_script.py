"""The PowerShell agent hvmem runs on a host, and the short command that starts it.

The agent script (`resources/agent/hvmem-agent.ps1`) is the only PowerShell hvmem sends, and
it never contains a value from a user or a host: those travel as JSON lines on stdin.

Start-up: the command line carries only a small, fixed bootstrap (well under cmd.exe's 8191
characters, F05). The bootstrap reads one line from stdin, the agent script in base64, and
runs it; the agent then reads one JSON request per line until end of input.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache

from hvmem import paths

MAX_COMMAND_LINE = 8191

# Fixed text; the WinRM simulator recognises hvmem's agent by exactly this bootstrap.
BOOTSTRAP = (
    "$ProgressPreference='SilentlyContinue';"
    "$ErrorActionPreference='Stop';"
    "try{$u=New-Object System.Text.UTF8Encoding $false;"
    "[Console]::OutputEncoding=$u;[Console]::InputEncoding=$u}catch{};"
    "$hvmemAgentLine=[Console]::In.ReadLine();"
    "if($hvmemAgentLine){"
    ". ([ScriptBlock]::Create([Text.Encoding]::UTF8.GetString("
    "[Convert]::FromBase64String($hvmemAgentLine))))}"
)


def agent_path() -> str:
    return str(paths.resources_dir() / "agent" / "hvmem-agent.ps1")


@cache
def agent_source() -> str:
    with open(agent_path(), encoding="utf-8") as handle:
        return handle.read()


def agent_digest() -> str:
    """SHA-256 of the agent script, so a host (or the simulator) can tell which it runs."""
    return hashlib.sha256(agent_source().encode("utf-8")).hexdigest()


@cache
def start_command() -> str:
    """The command line that starts the agent on a host."""
    encoded = base64.b64encode(BOOTSTRAP.encode("utf-16-le")).decode("ascii")
    command = (
        "powershell.exe -NoLogo -NoProfile -NonInteractive -ExecutionPolicy Bypass "
        f"-EncodedCommand {encoded}"
    )
    if len(command) > MAX_COMMAND_LINE:  # a guard for whoever edits BOOTSTRAP
        raise AssertionError(f"agent start command is {len(command)} characters")
    return command


@cache
def script_line() -> bytes:
    """The first line fed to the bootstrap: the agent script, base64 of its UTF-8."""
    return base64.b64encode(agent_source().encode("utf-8")) + b"\n"


def decode_script_line(line: bytes | str) -> str:
    """The script a bootstrap would run for this first line (for the simulator)."""
    raw = line.encode("ascii") if isinstance(line, str) else line
    return base64.b64decode(raw.strip(), validate=True).decode("utf-8")
