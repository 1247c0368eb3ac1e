"""Power actions: the desktop user's errand end to end, the simulator's transitions, the
fit check, failure classes by id, conflicts, lost connections and the command line.

The errand and the out-of-memory starts run on the demo host through real WinRM on
loopback; the state transitions run against the simulator's agent in-process (the same
protocol lines, only without the network), to stay fast.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pytest

from hvmem import cli_commands, controller
from hvmem.cli import main
from hvmem.errors import ErrorKind, HostErrorClass, HvmemError
from hvmem.hyperv.channel import InProcessChannel
from hvmem.hyperv.client import HostClient, HostOperationError
from hvmem.hyperv.protocol import ErrorRecord
from hvmem.model import HostSnapshot, Inventory, MemoryChange, VmSnapshot
from hvmem.power import power, start_fit
from hvmem.sim.agent import SimAgent
from hvmem.sim.demo import DemoHost, start_demo
from hvmem.sim.host import SimHost
from hvmem.sim.messages import Texts
from hvmem.sim.scenario import load_scenario

START_OOM_ID = "OutOfMemory,Microsoft.HyperV.PowerShell.Commands.StartVM"
E_OUTOFMEMORY = 0x8007000E


def named(inventory: Inventory, name: str) -> VmSnapshot:
    return next(vm for vm in inventory.vms if vm.name == name)


def in_process(scenario: str = "desktop") -> tuple[SimHost, HostClient]:
    host = load_scenario(scenario)
    agent = SimAgent(host)
    return host, HostClient(InProcessChannel(agent.handle_line, "sim"), host.name)


@pytest.fixture()
def desktop() -> Iterator[DemoHost]:
    with start_demo("desktop", seed=1) as demo:
        yield demo


# --- the errand, through WinRM --------------------------------------------------------


def test_errand_free_memory_then_start_the_vm_that_did_not_fit(desktop: DemoHost) -> None:
    client = desktop.client()
    try:
        first = power(client, named(client.list(), "build-off"), "start")
        inventory = client.list()
        gpu = named(inventory, "gpu-cad")
        before = start_fit(gpu, inventory.host)
        failed = power(client, gpu, "start")

        # Shrink a running static VM at run time to free what is missing.
        dev = named(inventory, "dev-win11")
        shrink = controller.apply(client, dev, MemoryChange(startup_mb=5632),
                                  inventory.host, sleep=lambda _: None)
        inventory = client.list()
        after = start_fit(named(inventory, "gpu-cad"), inventory.host)
        started = power(client, named(inventory, "gpu-cad"), "start")
    finally:
        client.close()

    assert first.outcome == "done"
    assert (before.fits, before.needed_mb, before.available_mb) == (False, 4096, 1936)
    assert "has only 1936 MB free: free 2160 MB first" in before.message

    assert failed.outcome == "refused"
    assert failed.host_class is HostErrorClass.OUT_OF_MEMORY
    assert failed.host_errors[0].error_id == START_OOM_ID
    assert failed.host_errors[0].hresult == E_OUTOFMEMORY
    assert failed.vm_after is not None and failed.vm_after.state == "Off"
    assert failed.error is not None and failed.error.summary.startswith(
        "The host does not have enough free memory to start gpu-cad")
    assert "Not enough memory in the system to start the virtual machine gpu-cad." in (
        failed.error.details)

    assert shrink.outcome == "applied"
    assert (after.fits, after.available_mb) == (True, 4496)
    assert started.outcome == "done" and started.vm_after is not None
    vm = started.vm_after
    assert (vm.state, vm.assigned_mb, vm.uptime_s) == ("Running", 4096, 0)
    assert vm.demand_mb == desktop.sim_host.find(vm.id).guest.in_use_mb > 0


def test_crowded_host_refuses_a_start_with_hyperv_own_record() -> None:
    with start_demo("crowded") as demo:
        client = demo.client()
        inventory = client.list()
        result = power(client, named(inventory, "reports-off"), "start")
        client.close()

    record = result.host_errors[0]
    assert result.outcome == "refused"
    assert result.host_class is HostErrorClass.OUT_OF_MEMORY
    assert (record.error_id, record.category, record.hresult) == (
        START_OOM_ID, "FromStdErr", E_OUTOFMEMORY)
    assert record.message.splitlines()[:3] == [
        "'reports-off' failed to start.",
        "Not enough memory in the system to start the virtual machine reports-off.",
        "Could not initialize memory: Not enough memory resources are available to "
        "complete this operation. (0x8007000E).",
    ]
    assert "with ram size 8192 megabytes." in record.message
    assert result.vm_after is not None and result.vm_after.state == "Off"


def test_german_host_gives_the_same_class_with_german_text_verbatim() -> None:
    with start_demo("german") as demo:
        sim = demo.sim_host
        with sim.lock:  # leave 1000 MB free: Entwicklung needs 4096
            sim.reserve_mb += sim.available_mb() - 1000
        client = demo.client()
        result = power(client, named(client.list(), "Entwicklung"), "start")
        client.close()

    expected = Texts("de-DE").get("start-failed", vm="Entwicklung").splitlines()
    record = result.host_errors[0]
    assert result.host_class is HostErrorClass.OUT_OF_MEMORY
    assert record.error_id == START_OOM_ID and record.hresult == E_OUTOFMEMORY
    assert record.message.splitlines()[:3] == expected
    assert expected[0] == "\"Entwicklung\" konnte nicht gestartet werden."
    assert "memory" not in record.message
    # The host's words reach the user untouched, under hvmem's own summary.
    assert result.error is not None and expected[1] in result.error.details


# --- classification by id, not by text ------------------------------------------------


class RefusingChannel:
    """A host whose agent answers every request with the given Hyper-V records."""

    def __init__(self, *records: ErrorRecord) -> None:
        self.records = [record.to_wire() for record in records]

    def call(self, op: str, args: Mapping[str, Any], timeout: float) -> dict[str, Any]:
        head = self.records[0]
        return {"id": 1, "ok": False,
                "error": {**head, "kind": "host", "records": self.records}}

    def close(self) -> None:
        pass


@pytest.mark.parametrize(("record", "wanted"), [
    # Polish reservation failure (F20): unknown id, known HRESULT.
    (ErrorRecord("Nie można zarezerwować 2048 MB pamięci RAM. (0x800705AA)",
                 "Unspecified,Microsoft.HyperV.PowerShell.Commands.StartVM",
                 "NotSpecified", 0x800705AA), HostErrorClass.OUT_OF_MEMORY),
    # English words about memory, but an InvalidState id: the id wins.
    (ErrorRecord("Not enough memory in the system to start the virtual machine x.",
                 "InvalidState,Microsoft.HyperV.PowerShell.Commands.StartVM"),
     HostErrorClass.INVALID_STATE),
    # The same words with no id or HRESULT: nothing to classify by.
    (ErrorRecord("Not enough memory in the system to start the virtual machine x."),
     HostErrorClass.OTHER),
])
def test_failures_are_classified_by_id_and_hresult_never_by_text(
    record: ErrorRecord, wanted: HostErrorClass
) -> None:
    _, client = in_process()
    vm = named(client.list(), "build-off")

    result = power(HostClient(RefusingChannel(record), "fake"), vm, "start")

    assert result.outcome == "refused"
    assert result.host_class is wanted
    assert result.error is not None and record.message in result.error.details


# --- the simulator's transitions ------------------------------------------------------


def test_stop_and_turn_off_release_the_memory() -> None:
    host, client = in_process()
    inventory = client.list()
    free = inventory.host.available_mb

    stopped = power(client, named(inventory, "ubuntu-lts"), "stop")
    turned_off = power(client, named(inventory, "win10-paused"), "turn_off")
    now = client.list().host.available_mb

    for result in (stopped, turned_off):
        assert result.outcome == "done" and result.vm_after is not None
        assert (result.vm_after.state, result.vm_after.assigned_mb) == ("Off", 0)
        assert result.vm_after.demand_mb == 0 and result.vm_after.uptime_s == 0
    assert now == free + 4096 + 2048


def test_save_then_start_restores_the_memory_it_was_saved_with() -> None:
    host, client = in_process()
    web = named(client.list(), "web-dm")  # Dynamic Memory: 2160 MB assigned, Startup 2048
    assert web.assigned_mb == 2160

    saved = power(client, web, "save")
    assert saved.vm_after is not None
    assert (saved.vm_after.state, saved.vm_after.assigned_mb) == ("Saved", 0)

    restored = power(client, saved.vm_after, "start")
    assert restored.vm_after is not None
    assert (restored.vm_after.state, restored.vm_after.assigned_mb) == ("Running", 2160)
    assert restored.vm_after.demand_mb == 1800  # the guest's use survived the save


def test_saved_vm_that_does_not_fit_stays_saved() -> None:
    host, client = in_process()
    saved = named(client.list(), "test-saved")
    with host.lock:
        host.reserve_mb += host.available_mb() - 2046

    result = power(client, saved, "start")

    assert result.outcome == "refused"
    assert result.host_class is HostErrorClass.OUT_OF_MEMORY
    assert result.vm_after is not None and result.vm_after.state == "Saved"
    assert "with ram size 2048 megabytes" in result.host_errors[0].message


def test_start_resumes_a_paused_vm_without_needing_free_memory() -> None:
    host, client = in_process()
    paused = named(client.list(), "win10-paused")
    with host.lock:
        host.reserve_mb += host.available_mb()  # nothing free at all

    fit = start_fit(paused, client.list().host)
    result = power(client, paused, "start")

    assert fit.fits and fit.needed_mb == 0
    assert result.outcome == "done" and result.vm_after is not None
    assert (result.vm_after.state, result.vm_after.assigned_mb) == ("Running", 2048)


@pytest.mark.parametrize(("name", "action"), [
    ("dev-win11", "start"), ("build-off", "stop"), ("build-off", "turn_off"),
    ("build-off", "save"), ("test-saved", "stop"), ("test-saved", "save"),
])
def test_an_action_the_state_does_not_allow_is_invalid_state(name: str,
                                                             action: Any) -> None:
    host, client = in_process()
    vm = named(client.list(), name)

    result = power(client, vm, action)

    assert result.outcome == "refused"
    assert result.host_class is HostErrorClass.INVALID_STATE
    assert result.host_errors[0].error_id.startswith("InvalidState,")
    assert result.vm_after is not None and result.vm_after.state == vm.state


def test_a_stale_state_is_a_conflict_and_nothing_is_done() -> None:
    host, client = in_process()
    stale = named(client.list(), "ubuntu-lts")
    host.power(stale.id, "save_vm")  # someone else saved it meanwhile

    result = power(client, stale, "turn_off")

    assert result.outcome == "conflict"
    assert result.vm_after is not None and result.vm_after.state == "Saved"
    assert host.find(stale.id).state == "Saved"
    assert "Saved now, not Running" in result.summary()


# --- lost connections -----------------------------------------------------------------


class FlakyChannel:
    """Forwards to the simulator; the chosen op reaches it but its answer is lost."""

    def __init__(self, agent: SimAgent, lose: str, reads_fail: bool = False) -> None:
        self.inner = InProcessChannel(agent.handle_line, "sim")
        self.lose = lose
        self.reads_fail = reads_fail

    def call(self, op: str, args: Mapping[str, Any], timeout: float) -> dict[str, Any]:
        if op == "get_vm" and self.reads_fail:
            raise HvmemError(ErrorKind.UNREACHABLE, "host unreachable")
        answer = self.inner.call(op, args, timeout)
        if op == self.lose:
            raise HvmemError(ErrorKind.UNREACHABLE, "connection reset")
        return answer

    def close(self) -> None:
        pass


@pytest.mark.parametrize(("reads_fail", "outcome", "state_after"), [
    (False, "done", "Off"), (True, "unknown", None),
])
def test_a_lost_answer_is_settled_by_reading_the_vm_again(
    reads_fail: bool, outcome: str, state_after: str | None
) -> None:
    host = load_scenario("desktop")
    channel = FlakyChannel(SimAgent(host), "stop_vm", reads_fail)
    client = HostClient(channel, host.name, retry_reads=False)
    vm = next(v for v in host.vms() if v.name == "ubuntu-lts")
    snapshot = HostClient(InProcessChannel(SimAgent(host).handle_line, "sim"),
                          host.name).get_vm(vm.id)[1]

    result = power(client, snapshot, "stop")

    assert result.outcome == outcome
    assert (result.vm_after.state if result.vm_after else None) == state_after
    assert host.find(vm.id).state == "Off"  # the shut down did land


# --- start_fit in words ---------------------------------------------------------------


def test_start_fit_says_what_is_needed_and_what_to_free() -> None:
    _, client = in_process()
    inventory = client.list()
    build = named(inventory, "build-off")
    roomy = HostSnapshot("h", 32768, 6032)
    tight = HostSnapshot("h", 32768, 1200)

    fits = start_fit(build, roomy)
    short = start_fit(build, tight)
    saved_dm = start_fit(named(inventory, "test-saved"), roomy)

    assert fits.fits and fits.message == (
        "build-off needs 4096 MB to start; the host has 6032 MB free.")
    assert not short.fits and short.shortfall_mb == 2896
    assert short.message == (
        "build-off needs 4096 MB to start; the host has only 1200 MB free: free 2896 MB "
        "first, e.g. by shrinking a running VM.")
    assert saved_dm.fits and "about 2048 MB to resume from its saved state" in (
        saved_dm.message)


# --- the command line -----------------------------------------------------------------


@pytest.fixture()
def crowded_cli(monkeypatch: pytest.MonkeyPatch) -> Iterator[DemoHost]:
    """`hvmem` commands talk to a crowded demo host over WinRM instead of the desktop."""
    with start_demo("crowded") as demo:

        @contextmanager
        def connected(args: argparse.Namespace) -> Iterator[HostClient]:
            client = demo.client()
            try:
                yield client
            finally:
                client.close()

        monkeypatch.setattr(cli_commands, "connected", connected)
        yield demo


def test_cli_start_says_the_fit_then_fails_with_the_host_text(
    crowded_cli: DemoHost, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["start", "reports-off"])
    out, err = capsys.readouterr()

    assert status == 1
    assert out.startswith("reports-off needs 8192 MB to start; the host has only 243 MB")
    assert "The host does not have enough free memory to start reports-off" in err
    assert f"FullyQualifiedErrorId: {START_OOM_ID}" in err
    assert ("  Not enough memory in the system to start the virtual machine "
            "reports-off.") in err


def test_cli_power_commands_exit_zero_when_done(
    crowded_cli: DemoHost, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = main(["save", "web-dm"])
    turned_off = main(["turn-off", "cache-linux", "--json"])
    out, _ = capsys.readouterr()
    started = main(["start", "cache-linux", "--json"])
    shown = json.loads(capsys.readouterr().out)
    stopped = main(["stop", crowded_cli.sim_host.vms()[0].id])

    assert (saved, turned_off, started, stopped) == (0, 0, 0, 0)
    assert "web-dm is Saved now." in out
    assert shown["outcome"] == "done" and shown["vm"]["state"] == "Running"
    assert shown["fit"]["fits"] is True and shown["fit"]["needed_mb"] == 2048
    assert crowded_cli.sim_host.vms()[0].state == "Off"


def test_cli_power_on_an_unknown_vm_fails(
    crowded_cli: DemoHost, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["stop", "no-such-vm"])
    assert status == 1
    assert "No VM named or with the Id 'no-such-vm'" in capsys.readouterr().err


def test_sim_agent_checks_the_power_request() -> None:
    host = load_scenario("desktop")
    agent = SimAgent(host)
    vm = next(v for v in host.vms() if v.name == "build-off")

    missing = agent.handle({"id": 1, "op": "start_vm", "args": {"vm_id": vm.id}})
    unknown = agent.handle({"id": 2, "op": "save_vm", "args": {
        "vm_id": "00000000-0000-0000-0000-000000000000", "expected_state": "Running"}})

    assert missing["error"]["kind"] == "bad_request"
    assert "expected_state" in missing["error"]["message"]
    assert unknown["error"]["kind"] == "not_found"
    assert unknown["error"]["cmdlet"] == "Save-VM"
    assert vm.state == "Off"
