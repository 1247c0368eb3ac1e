"""`hvmem list` and `hvmem set`: output shapes, exit statuses and error messages.

Most tests run the commands in-process against the simulator's agent (a scenario loaded
into `SimAgent`, reached through `InProcessChannel`), swapped in for the host connection.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import pytest

from hvmem import cli_commands
from hvmem.errors import HvmemError
from hvmem.hyperv.channel import InProcessChannel
from hvmem.hyperv.client import HostClient
from hvmem.model import Inventory
from hvmem.sim.agent import SimAgent
from hvmem.sim.scenario import load_scenario

LIST_VM_KEYS = {"id", "name", "state", "generation", "version", "dynamic_memory",
                "startup_mb", "minimum_mb", "maximum_mb", "buffer_percent", "weight",
                "assigned_mb", "demand_mb", "memory_status", "cpu_percent", "uptime_s",
                "status"}


class CountingAgent:
    """The simulator's agent, counting the operations it answers."""

    def __init__(self, scenario: str = "desktop") -> None:
        self.agent = SimAgent(load_scenario(scenario))
        self.ops: list[str] = []

    def handle_line(self, line: str) -> str:
        self.ops.append(json.loads(line)["op"])
        return self.agent.handle_line(line)


@pytest.fixture()
def sim(monkeypatch: pytest.MonkeyPatch) -> CountingAgent:
    counting = CountingAgent()

    @contextmanager
    def connected(args: argparse.Namespace) -> Iterator[HostClient]:
        yield HostClient(InProcessChannel(counting.handle_line, "sim"), "DESKTOP-HV")

    monkeypatch.setattr(cli_commands, "connected", connected)
    return counting


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="hvmem")
    cli_commands.add_parsers(parser.add_subparsers(dest="command"))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    result: int = args.handler(args)
    return result


def test_list_json_has_exactly_the_documented_shape(
        sim: CountingAgent, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["list", "--json"]) == 0

    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"host", "vms"}
    assert set(data["host"]) == {"name", "total_mb", "available_mb"}
    assert data["vms"] and all(set(vm) == LIST_VM_KEYS for vm in data["vms"])
    dev = next(vm for vm in data["vms"] if vm["name"] == "dev-win11")
    assert (dev["startup_mb"], dev["maximum_mb"], dev["dynamic_memory"]) == (
        8192, 1048576, False)


def test_list_table_is_readable(sim: CountingAgent,
                                capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["list"]) == 0

    out = capsys.readouterr().out
    assert out.startswith("Host DESKTOP-HV: 32768 MB total")
    assert "Café-DB" in out
    header = out.splitlines()[1]
    assert header.split()[:4] == ["NAME", "STATE", "ASSIGNED", "STARTUP"]


def test_set_applied_exits_0_and_prints_json(
        sim: CountingAgent, capsys: pytest.CaptureFixture[str]) -> None:
    code = run(["set", "web-dm", "--maximum", "16GB", "--json"])

    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert data["outcome"] == "applied"
    assert data["vm"]["name"] == "web-dm"
    assert data["requested"]["maximum_mb"] == data["after"]["maximum_mb"] == 16384
    assert set(data) == {"outcome", "vm", "before", "requested", "after", "reasons",
                         "warnings", "host_errors"}
    assert sim.ops.count("set_memory") == 1


def test_set_by_id_in_capitals(sim: CountingAgent,
                               capsys: pytest.CaptureFixture[str]) -> None:
    run(["list", "--json"])
    build = next(vm for vm in json.loads(capsys.readouterr().out)["vms"]
                 if vm["name"] == "build-off")

    code = run(["set", build["id"].upper(), "--startup", "6GB"])

    assert code == 0
    assert "build-off now has Startup RAM 6144 MB" in capsys.readouterr().out


def test_set_beyond_host_free_memory_is_partial_exit_3(
        sim: CountingAgent, capsys: pytest.CaptureFixture[str]) -> None:
    code = run(["set", "dev-win11", "--startup", "32GB", "--json"])

    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert code == 3
    assert data["outcome"] == "partial"
    assert data["requested"]["startup_mb"] == 32768
    assert data["host_errors"][0]["error_id"].startswith("OutOfMemory")
    assert "warning: The host has about" in captured.err
    assert sim.ops.count("set_memory") == 1


def test_set_rejected_exit_4_sends_nothing(
        sim: CountingAgent, capsys: pytest.CaptureFixture[str]) -> None:
    code = run(["set", "web-dm", "--dynamic", "off", "--json"])

    data = json.loads(capsys.readouterr().out)
    assert code == 4
    assert data["outcome"] == "rejected"
    assert data["reasons"][0]["rule"] == "running-dm-toggle"
    assert "set_memory" not in sim.ops


def test_set_to_current_values_sends_nothing_exit_0(
        sim: CountingAgent, capsys: pytest.CaptureFixture[str]) -> None:
    code = run(["set", "build-off", "--startup", "4096"])

    assert code == 0
    assert "nothing was sent" in capsys.readouterr().out
    assert "set_memory" not in sim.ops


def test_refused_by_hyperv_exits_1_with_the_host_text(
        sim: CountingAgent, capsys: pytest.CaptureFixture[str]) -> None:
    code = run(["set", "ubuntu-lts", "--startup", "2048"])

    captured = capsys.readouterr()
    assert code == 1
    assert "did not change ubuntu-lts" in captured.out
    assert "NotSupported" in captured.err
    assert "Traceback" not in captured.err


def test_unknown_vm_lists_the_candidates(
        sim: CountingAgent, capsys: pytest.CaptureFixture[str]) -> None:
    code = run(["set", "no-such-vm", "--weight", "10"])

    err = capsys.readouterr().err
    assert code == 1
    assert "No VM named or with the Id 'no-such-vm'" in err
    assert "dev-win11  b6b65511" in err and "Café-DB" in err
    assert "set_memory" not in sim.ops


@pytest.mark.parametrize("argv", [
    ["set", "web-dm"],                          # nothing to change
    ["set", "web-dm", "--startup", "1.5"],      # fractional MB
    ["set", "web-dm", "--dynamic", "maybe"],
    ["set", "--weight", "5"],                   # no VM
    ["list", "--auth", "digest"],
])
def test_usage_errors_exit_2(sim: CountingAgent, argv: list[str],
                             capsys: pytest.CaptureFixture[str]) -> None:
    assert run(argv) == 2
    assert "usage:" in capsys.readouterr().err
    assert sim.ops == []


def test_ambiguous_name_lists_both_ids() -> None:
    counting = CountingAgent()
    inventory = HostClient(InProcessChannel(counting.handle_line, "sim"), "sim").list()
    twin = replace(inventory.vms[0], id="00000000-0000-4000-8000-000000000099")
    doubled = Inventory(inventory.host, inventory.vms + (twin,))

    with pytest.raises(HvmemError) as caught:
        cli_commands.find_vm(doubled, "dev-win11", "HV")

    assert caught.value.summary == "2 VMs are named 'dev-win11'"
    assert "00000000-0000-4000-8000-000000000099" in caught.value.details
    assert inventory.vms[0].id in caught.value.details
