"""`hvmem list` and `hvmem set`: output shapes, exit statuses and error messages.

Most tests run the commands in-process against the simulator's agent (a scenario loaded
into `SimAgent`, reached through `InProcessChannel`), swapped in for the host connection.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import pytest

from hvmem import cli_commands
from hvmem.cli import main
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


def test_a_refusal_says_what_to_do_next(
        sim: CountingAgent, capsys: pytest.CaptureFixture[str]) -> None:
    code = run(["set", "ubuntu-lts", "--startup", "2048", "--json"])

    reasons = json.loads(capsys.readouterr().out)["reasons"]
    assert code == 1
    assert [r["rule"] for r in reasons] == ["guest-no-hot-remove"]
    assert "shut the VM down to lower its Startup RAM" in reasons[0]["message"]


def test_unknown_vm_lists_the_candidates(
        sim: CountingAgent, capsys: pytest.CaptureFixture[str]) -> None:
    code = run(["set", "no-such-vm", "--weight", "10"])

    err = capsys.readouterr().err
    assert code == 1
    assert "No VM named or with the Id 'no-such-vm'" in err
    assert "dev-win11  b6b65511" in err and "Café-DB" in err
    assert "set_memory" not in sim.ops


def test_a_mistyped_vm_name_gets_a_suggestion(
        sim: CountingAgent, capsys: pytest.CaptureFixture[str]) -> None:
    code = run(["set", "dev-win1", "--startup", "4096"])

    err = capsys.readouterr().err
    assert code == 1
    assert "Did you mean 'dev-win11'?" in err
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


# --- The real command, against `hvmem sim serve` in another process, over WinRM ---------

SIM_USER = "tester"
SIM_PASSWORD = "s3cret-for-tests"


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    """`hvmem sim serve` as a subprocess; yields its URL."""
    env = {**os.environ, "HVMEM_SIM_PASSWORD": SIM_PASSWORD}
    process = subprocess.Popen(
        [sys.executable, "-m", "hvmem", "sim", "serve", "--scenario", "desktop",
         "--listen", "127.0.0.1:0", "--user", SIM_USER],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), process.stderr.read()  # type: ignore
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def host_args(url: str) -> list[str]:
    return ["--host", url, "--auth", "basic", "--user", SIM_USER]


@pytest.fixture()
def password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HVMEM_PASSWORD", SIM_PASSWORD)


def served_vm(url: str, name: str, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert main(["list", "--json", *host_args(url)]) == 0
    vms = json.loads(capsys.readouterr().out)["vms"]
    found: dict[str, Any] = next(vm for vm in vms if vm["name"] == name)
    return found


def test_uv_run_hvmem_list_json_over_winrm(served: str) -> None:
    env = {**os.environ, "HVMEM_PASSWORD": SIM_PASSWORD}
    done = subprocess.run(["uv", "run", "--offline", "hvmem", "list", "--json",
                           *host_args(served)],
                          capture_output=True, text=True, env=env, timeout=60)

    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["host"]["name"] == "DESKTOP-HV"
    assert all(set(vm) == LIST_VM_KEYS for vm in data["vms"])


def test_served_applied_exit_0(served: str, password: None,
                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["set", "build-off", "--startup", "6GB", *host_args(served)]) == 0

    assert "build-off now has Startup RAM 6144 MB" in capsys.readouterr().out
    assert served_vm(served, "build-off", capsys)["startup_mb"] == 6144


def test_served_partial_exit_3(served: str, password: None,
                               capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["set", "dev-win11", "--startup", "64GB", "--json", *host_args(served)])

    captured = capsys.readouterr()
    assert code == 3, captured.err
    data = json.loads(captured.out)
    assert data["outcome"] == "partial"
    assert data["host_errors"] and data["host_errors"][0]["error_id"]
    assert "warning:" in captured.err


def test_served_rejected_exit_4_leaves_the_vm_alone(
        served: str, password: None, capsys: pytest.CaptureFixture[str]) -> None:
    before = served_vm(served, "web-dm", capsys)

    code = main(["set", "web-dm", "--dynamic", "off", *host_args(served)])

    captured = capsys.readouterr()
    assert code == 4
    assert "Shut down the VM to turn Dynamic Memory on or off" in captured.out
    after = served_vm(served, "web-dm", capsys)
    settings = ("dynamic_memory", "startup_mb", "minimum_mb", "maximum_mb")
    assert [after[k] for k in settings] == [before[k] for k in settings]


def test_served_unknown_vm_exit_1(served: str, password: None,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["set", "ghost", "--weight", "10", *host_args(served)])

    err = capsys.readouterr().err
    assert code == 1
    assert "No VM named or with the Id 'ghost'" in err
    assert "Traceback" not in err


def test_served_bad_password_exit_1(served: str, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HVMEM_PASSWORD", "wrong")

    code = main(["list", *host_args(served)])

    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("hvmem: ")
    assert "Traceback" not in err and "wrong" not in err


def test_served_usage_exit_2(served: str, password: None,
                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["set", "web-dm", "--buffer", "lots", *host_args(served)]) == 2
    assert "invalid int value" in capsys.readouterr().err


def test_list_json_on_the_demo_host_in_process(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--json"]) == 0

    data = json.loads(capsys.readouterr().out)
    assert data["host"]["name"] == "DESKTOP-HV"
    assert {vm["name"] for vm in data["vms"]} >= {"dev-win11", "web-dm", "gpu-cad"}


def test_missing_password_says_where_to_put_it(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("HVMEM_PASSWORD", raising=False)
    monkeypatch.setattr("keyring.get_password", lambda service, entry: None)

    code = main(["list", "--host", "http://127.0.0.1:1/wsman", "--auth", "basic",
                 "--user", "bob"])

    err = capsys.readouterr().err
    assert code == 1
    assert "No password for bob@http://127.0.0.1:1/wsman" in err
    assert "HVMEM_PASSWORD" in err


def test_keyring_failure_is_reported(monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    def broken(service: str, entry: str) -> str:
        raise RuntimeError("no keyring back end")

    monkeypatch.delenv("HVMEM_PASSWORD", raising=False)
    monkeypatch.setattr("keyring.get_password", broken)

    code = main(["list", "--host", "http://127.0.0.1:1/wsman", "--auth", "basic",
                 "--user", "bob"])

    err = capsys.readouterr().err
    assert code == 1
    assert "Could not read the password for bob@http://127.0.0.1:1/wsman" in err
    assert "no keyring back end" in err
