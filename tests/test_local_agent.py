"""The local host's channel, driven with the simulator's agent as a real local process
(the same code path `--host local` takes with powershell.exe on Windows)."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from hvmem.errors import ErrorKind, HvmemError
from hvmem.hyperv import local_channel
from hvmem.hyperv.client import HostClient
from hvmem.hyperv.local_channel import (
    LocalProcessChannel,
    local_agent_argv,
    open_local_client,
)
from hvmem.model import MemoryChange

SIM_AGENT = [sys.executable, "-m", "hvmem", "sim", "agent", "--scenario", "desktop",
             "--seed", "1"]


@pytest.fixture
def channel() -> Iterator[LocalProcessChannel]:
    channel = LocalProcessChannel(SIM_AGENT, description="sim agent")
    yield channel
    channel.close()


def test_list_and_set_memory_through_a_local_process(
        channel: LocalProcessChannel) -> None:
    client = HostClient(channel, "local")

    hello = client.hello()
    vm = next(vm for vm in client.list().vms if vm.state == "Off")
    after = client.set_memory(vm, MemoryChange(startup_mb=vm.memory.startup_mb + 256))
    _, again = client.get_vm(vm.id)
    pid = channel.pid

    assert hello.simulated is True
    assert after.memory.startup_mb == vm.memory.startup_mb + 256
    assert again.memory.startup_mb == after.memory.startup_mb
    assert pid is not None and channel.pid == pid  # one process for every call


def test_a_timeout_kills_the_process_and_the_next_call_starts_another() -> None:
    hang_once = ("import sys, time, pathlib\n"
                 "flag = pathlib.Path(sys.argv[1])\n"
                 "if not flag.exists():\n"
                 "    flag.write_text('x'); time.sleep(60)\n"
                 "from hvmem.sim.agent import SimAgent, run_stdio\n"
                 "from hvmem.sim.scenario import load_scenario\n"
                 "run_stdio(SimAgent(load_scenario('desktop')), sys.stdin, sys.stdout)\n")
    with tempfile.TemporaryDirectory() as folder:
        flag = Path(folder) / "hung-once"
        channel = LocalProcessChannel([sys.executable, "-c", hang_once, str(flag)])
        try:
            with pytest.raises(HvmemError) as caught:
                channel.call("hello", {}, timeout=1.0)
            killed = channel.pid is None
            answer = channel.call("hello", {}, timeout=20)
        finally:
            channel.close()

    assert caught.value.kind is ErrorKind.TIMEOUT
    assert caught.value.summary == "local did not answer within 1 s"
    assert killed
    assert answer["ok"] is True


def test_a_dead_process_is_agent_with_its_stderr() -> None:
    dies = ("import sys; sys.stdin.readline(); "
            "sys.stderr.write('Get-VM : The Hyper-V module could not be loaded.'); "
            "sys.exit(3)")
    channel = LocalProcessChannel([sys.executable, "-c", dies])

    with pytest.raises(HvmemError) as caught:
        channel.call("list", {}, timeout=10)
    channel.close()

    assert caught.value.kind is ErrorKind.AGENT
    assert caught.value.summary == "hvmem's local agent stopped (exit code 3)"
    assert "Hyper-V module could not be loaded" in caught.value.details


def test_a_missing_program_is_agent_with_the_reason() -> None:
    channel = LocalProcessChannel(["/nonexistent/powershell.exe"])

    with pytest.raises(HvmemError) as caught:
        channel.call("hello", {}, timeout=5)

    assert caught.value.kind is ErrorKind.AGENT
    assert "FileNotFoundError" in caught.value.details


def test_reads_survive_an_agent_that_died_between_calls(
        channel: LocalProcessChannel) -> None:
    client = HostClient(channel, "local")
    client.hello()
    first = channel.pid
    assert channel._process is not None
    channel._process.popen.kill()  # the agent died while idle

    inventory = client.list()

    assert inventory.vms
    assert channel.pid not in (None, first)


def test_the_local_powershell_command_is_the_winrm_bootstrap() -> None:
    argv = local_agent_argv()

    assert argv[0] == "powershell.exe"
    assert argv[-2] == "-EncodedCommand" and "-NoProfile" in argv


def test_the_local_host_is_refused_off_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local_channel.sys, "platform", "linux")

    with pytest.raises(HvmemError) as caught:
        open_local_client()

    assert caught.value.kind is ErrorKind.CONFIG
    assert "only on Windows" in caught.value.summary
