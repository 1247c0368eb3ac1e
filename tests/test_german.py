"""The German host end to end over WinRM: its text comes through verbatim, ids decide.

Each test serves the `german` scenario with `start_demo` and, where it compares, an
English twin (the same host and VMs with locale en-US and no text overrides). What hvmem
decides (the outcome, the exit status, the class of a host error) must be the same for
both; what it shows (messages, Status, Memory Status) must be the host's own text.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hvmem import controller, rules
from hvmem.cli import main
from hvmem.errors import HostErrorClass, classify_record
from hvmem.hyperv.protocol import ErrorRecord
from hvmem.model import MemoryChange, VmSnapshot
from hvmem.sim.demo import DemoHost, start_demo
from hvmem.sim.scenario import scenarios_dir

SET_VM_MEMORY = "Microsoft.HyperV.PowerShell.Commands.SetVMMemory"
FAILED_DE = 'Fehler beim Ändern des Geräts "Arbeitsspeicher".'


def german_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (scenarios_dir() / "german.json").read_text(encoding="utf-8"))
    return data


def serve(path: Path, data: dict[str, Any]) -> DemoHost:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return start_demo(str(path))


@pytest.fixture()
def german(tmp_path: Path) -> Iterator[DemoHost]:
    with start_demo("german") as demo:
        yield demo


@pytest.fixture()
def english(tmp_path: Path) -> Iterator[DemoHost]:
    data = german_data()
    data["host"] = {**data["host"], "locale": "en-US", "texts": {}}
    with serve(tmp_path / "english-twin.json", data) as demo:
        yield demo


def apply_on(demo: DemoHost, name: str, change: MemoryChange) -> controller.ApplyResult:
    client = demo.client()
    try:
        inventory = client.list()
        vm = next(vm for vm in inventory.vms if vm.name == name)
        return controller.apply(client, vm, change, inventory.host, poll_interval=0.05)
    finally:
        client.close()


def listed(demo: DemoHost) -> dict[str, VmSnapshot]:
    client = demo.client()
    try:
        return {vm.name: vm for vm in client.list().vms}
    finally:
        client.close()


def decided(result: controller.ApplyResult) -> tuple[Any, ...]:
    """What hvmem concluded, without any text."""
    return (result.outcome, [r.error_id for r in result.host_errors],
            [r.category for r in result.host_errors],
            [r.hresult for r in result.host_errors],
            [classify_record(r) for r in result.host_errors],
            result.has_value("startup_mb"), result.assigned_after_mb)


def test_partial_add_is_german_verbatim_and_classified_as_in_english(
        german: DemoHost, english: DemoHost) -> None:
    vm_id = listed(german)["Buchhaltung"].id
    free = german.sim_host.available_mb()
    achieved = 8192 + free // 2 * 2

    de = apply_on(german, "Buchhaltung", MemoryChange(startup_mb=131072))
    en = apply_on(english, "Buchhaltung", MemoryChange(startup_mb=131072))

    assert decided(de) == decided(en)
    assert de.outcome == "partial" and de.assigned_after_mb == achieved
    assert de.host_errors[0].error_id == f"OutOfMemory,{SET_VM_MEMORY}"
    assert classify_record(de.host_errors[0]) is HostErrorClass.OUT_OF_MEMORY
    assert de.host_errors[0].message == (
        f'{FAILED_DE}\n"Buchhaltung" konnte nicht den gesamten angeforderten '
        f"Arbeitsspeicher hinzufügen: 131072 MB angefordert, {achieved} MB zugewiesen. "
        "Nicht genügend Speicherressourcen verfügbar, um diesen Vorgang abzuschließen. "
        f"(0x8007000E) (ID des virtuellen Computers {vm_id})")
    assert en.host_errors[0].message.startswith("Failed to modify device 'Memory'.")
    # The whole record on one line: the first line alone is the generic one.
    assert de.host_text() == de.host_errors[0].message.replace("\n", " ")


def test_partial_remove_stops_at_the_guests_use_in_both_languages(
        german: DemoHost, english: DemoHost) -> None:
    de = apply_on(german, "Buchhaltung", MemoryChange(startup_mb=4096))
    en = apply_on(english, "Buchhaltung", MemoryChange(startup_mb=4096))

    # The guest uses 6000 of 8192 MB: 2192 MB can go, so 6000 MB stay.
    assert decided(de) == decided(en)
    assert (de.outcome, de.assigned_after_mb, de.has_value("startup_mb")) == (
        "partial", 6000, 6000)
    assert de.host_errors[0].error_id.startswith("OperationFailed,")
    assert "Das Gastbetriebssystem verwendet den Arbeitsspeicher." in (
        de.host_errors[0].message)
    assert listed(german)["Buchhaltung"].assigned_mb == 6000


def test_refusal_is_classified_by_id_whatever_the_text(tmp_path: Path) -> None:
    data = german_data()
    # A misleading text: it reads like an out-of-memory failure, but the id says that
    # the guest cannot give memory back. hvmem must go by the id.
    data["host"]["texts"] = {
        **data["host"]["texts"],
        "guest-no-hot-remove": "Not enough memory resources (0x8007000E) OutOfMemory",
    }
    with serve(tmp_path / "misleading.json", data) as demo:
        result = apply_on(demo, "Linux-Gateway", MemoryChange(startup_mb=1024))

    record = result.host_errors[0]
    assert result.outcome == "refused"
    assert record.error_id == f"NotSupported,{SET_VM_MEMORY}"
    assert classify_record(record) is HostErrorClass.NOT_SUPPORTED
    assert "OutOfMemory" in record.message  # shown as the host gave it, not parsed
    assert classify_record(ErrorRecord(record.message)) is HostErrorClass.OTHER


def test_command_line_exit_status_and_host_text_in_german(
        german: DemoHost, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HVMEM_PASSWORD", german.password)
    host = ["--host", german.url, "--auth", "basic", "--user", german.user]

    partial = main(["set", "Buchhaltung", "--startup", "128GB", "--json", *host])
    data = json.loads(capsys.readouterr().out)
    refused = main(["set", "Linux-Gateway", "--startup", "1GB", *host])
    err = capsys.readouterr().err

    assert partial == 3 and data["outcome"] == "partial"
    assert data["host_errors"][0]["message"].startswith(FAILED_DE)
    assert data["host_errors"][0]["error_id"] == f"OutOfMemory,{SET_VM_MEMORY}"
    assert refused == 1
    assert FAILED_DE in err and "NotSupported," in err


def test_status_texts_come_through_as_the_host_gives_them(
        german: DemoHost, english: DemoHost) -> None:
    sim = german.sim_host
    with sim.lock:
        server = next(vm for vm in sim.vms() if vm.name == "Dateiserver-Süd")
        server.demand_mb = server.assigned_mb + 512  # more than it has: "Warnung"
        given = {vm.name: sim.vm_record(vm) for vm in sim.vms()}

    de, en = listed(german), listed(english)

    for name, vm in de.items():
        assert vm.status == given[name]["status"]
        assert vm.memory_status == given[name]["memory_status"]
    assert {vm.status for vm in de.values()} == {"Normaler Betrieb"}
    assert de["Dateiserver-Süd"].memory_status == "Warnung"
    assert {vm.status for vm in en.values()} == {"Operating normally"}
    # Display strings never drive logic: the rules see the same VMs either way.
    for name, vm in de.items():
        assert rules.field_states(vm) == rules.field_states(en[name]), name


def test_bad_scenario_file_names_the_field_and_the_value(tmp_path: Path) -> None:
    data = german_data()
    data["vms"][2]["startup_mb"] = 4019
    scenario = tmp_path / "kaputt.json"
    scenario.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    env = {**os.environ, "HVMEM_SIM_PASSWORD": "pw",
           "XDG_STATE_HOME": str(tmp_path / "state")}

    done = subprocess.run(
        [sys.executable, "-m", "hvmem", "sim", "serve", "--scenario", str(scenario),
         "--listen", "127.0.0.1:0"],
        capture_output=True, text=True, env=env, timeout=30)

    assert done.returncode == 1
    assert done.stdout == ""
    assert "vms[2].startup_mb: 4019 is not a multiple of 2 MB" in done.stderr
    assert "Traceback" not in done.stderr
