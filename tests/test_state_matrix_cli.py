"""The whole state matrix through the command line, against `hvmem sim serve` over WinRM.

One server process for the module serves a scenario written here: one VM per row of the
table below (so no row sees another's change), of the kind the row names. Each row runs
`hvmem set ... --json` in-process against the server's URL and checks the exit status,
the JSON `outcome`, the rule ids in `reasons` and, where Hyper-V answered with an error,
the error id of its first record.
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

from hvmem.cli import main

USER = "matrix"
PASSWORD = "matrix-pw-7"
TB = 1048576

GUEST = {"os": "Windows Server 2022", "hot_add": True, "hot_remove": True,
         "in_use_mb": 2000}
STATIC = {"state": "Running", "generation": 2, "version": "10.0",
          "dynamic_memory": False, "startup_mb": 4096, "minimum_mb": 512,
          "maximum_mb": TB, "buffer_percent": 20, "weight": 50, "guest": GUEST}
DYNAMIC = {**STATIC, "dynamic_memory": True, "startup_mb": 2048, "minimum_mb": 1024,
           "maximum_mb": 8192, "guest": {**GUEST, "in_use_mb": 1500}}
IDLE = {**GUEST, "in_use_mb": 0}

# The kinds of VM the matrix needs: scenario fields laid over STATIC.
KINDS: dict[str, dict[str, Any]] = {
    "off-static": {"state": "Off", "guest": IDLE},
    "off-static-v7.1": {"state": "Off", "version": "7.1", "guest": IDLE},
    "off-gen1": {"state": "Off", "generation": 1, "version": "5.0", "guest": IDLE},
    "off-dm": {**DYNAMIC, "state": "Off", "guest": IDLE},
    "off-gpu": {**DYNAMIC, "state": "Off", "startup_mb": 4096, "minimum_mb": 4096,
                "maximum_mb": 16384, "gpu_partition": True, "guest": IDLE},
    "run-static": {},
    "run-static-v5.0": {"generation": 1, "version": "5.0"},
    "run-static-v6.2": {"version": "6.2"},
    "run-static-nested": {"nested_virtualization": True},
    "run-static-busy": {"guest": {**GUEST, "in_use_mb": 3900}},
    "run-static-linux": {"guest": {**GUEST, "os": "Ubuntu 24.04", "hot_remove": False}},
    "run-static-2012r2": {"guest": {**GUEST, "os": "Windows Server 2012 R2",
                                    "hot_add": False, "hot_remove": False}},
    "run-dm": DYNAMIC,
    "saved": {"state": "Saved", "guest": IDLE},
    "saved-dm": {**DYNAMIC, "state": "Saved", "guest": IDLE},
    "paused": {"state": "Paused"},
    "paused-dm": {**DYNAMIC, "state": "Paused"},
    "starting": {"state": "Starting"},
    "stopping": {"state": "Stopping"},
    "saving": {"state": "Saving"},
    "pausing": {"state": "Pausing"},
    "resuming": {"state": "Resuming"},
    "fast-saved": {"state": "FastSaved", "guest": IDLE},
    "running-critical": {"state": "RunningCritical"},
}

OK, FAILED, PARTIAL, REJECTED = 0, 1, 3, 4
# (VM kind, `hvmem set` options, exit status, outcome, reasons[].rule, host error id)
MATRIX: list[tuple[str, list[str], int, str, list[str], str]] = [
    # Off: everything may change, within the value rules.
    ("off-static", ["--startup", "6144"], OK, "applied", [], ""),
    ("off-static", ["--startup", "4097"], REJECTED, "rejected", ["align-2mb"], ""),
    ("off-static", ["--startup", "30"], REJECTED, "rejected", ["min-32mb"], ""),
    ("off-static", ["--startup", "31"], REJECTED, "rejected",
     ["align-2mb", "min-32mb"], ""),
    ("off-static", ["--startup", "2TB"], OK, "applied", [], ""),
    ("off-static-v7.1", ["--startup", "2TB"], REJECTED, "rejected", ["max-bound"], ""),
    ("off-gen1", ["--startup", f"{TB + 2}"], REJECTED, "rejected", ["max-bound"], ""),
    ("off-gen1", ["--startup", "1TB"], OK, "applied", [], ""),
    ("off-static", ["--minimum", "1024"], REJECTED, "rejected", ["dm-required"], ""),
    ("off-static", ["--buffer", "30"], REJECTED, "rejected", ["dm-required"], ""),
    ("off-static", ["--dynamic", "on", "--minimum", "1024", "--maximum", "8192"],
     OK, "applied", [], ""),
    ("off-static", ["--weight", "101"], REJECTED, "rejected", ["weight-range"], ""),
    ("off-static", ["--weight", "0"], OK, "applied", [], ""),
    ("off-dm", ["--minimum", "4096"], REJECTED, "rejected", ["order-min-startup"], ""),
    ("off-dm", ["--maximum", "1024"], REJECTED, "rejected", ["order-startup-max"], ""),
    ("off-dm", ["--startup", "4096", "--maximum", "16384"], OK, "applied", [], ""),
    ("off-dm", ["--maximum", "8193"], REJECTED, "rejected", ["align-2mb"], ""),
    ("off-dm", ["--buffer", "4"], REJECTED, "rejected", ["buffer-range"], ""),
    ("off-dm", ["--buffer", "2000"], OK, "applied", [], ""),
    ("off-dm", ["--dynamic", "off"], OK, "applied", [], ""),
    ("off-dm", ["--dynamic", "off", "--maximum", "16384"], REJECTED, "rejected",
     ["dm-required"], ""),
    ("off-gpu", ["--minimum", "2048"], REJECTED, "rejected", ["gpu-startup-min"], ""),
    ("off-gpu", ["--startup", "8192", "--minimum", "8192"], OK, "applied", [], ""),
    # Running with static memory: Startup only (runtime resize).
    ("run-static", ["--startup", "6144"], OK, "applied", [], ""),
    ("run-static", ["--startup", "3072"], OK, "applied", [], ""),
    ("run-static", ["--startup", "6145"], REJECTED, "rejected", ["align-2mb"], ""),
    ("run-static", ["--dynamic", "on"], REJECTED, "rejected", ["running-dm-toggle"], ""),
    ("run-static", ["--weight", "70"], REJECTED, "rejected", ["state-readonly"], ""),
    ("run-static", ["--maximum", "8192"], REJECTED, "rejected", ["dm-required"], ""),
    ("run-static", ["--buffer", "30"], REJECTED, "rejected", ["dm-required"], ""),
    ("run-static", ["--startup", "4096"], OK, "unchanged", [], ""),
    ("run-static-busy", ["--startup", "2048"], PARTIAL, "partial", ["guest-in-use"],
     "OperationFailed"),
    ("run-static-v5.0", ["--startup", "6144"], REJECTED, "rejected",
     ["runtime-resize-version"], ""),
    ("run-static-v6.2", ["--startup", "6144"], OK, "applied", [], ""),
    ("run-static-nested", ["--startup", "6144"], REJECTED, "rejected",
     ["runtime-resize-nested"], ""),
    ("run-static-linux", ["--startup", "6144"], OK, "applied", [], ""),
    ("run-static-linux", ["--startup", "2048"], FAILED, "refused",
     ["guest-no-hot-remove"], "NotSupported"),
    ("run-static-2012r2", ["--startup", "6144"], FAILED, "refused",
     ["guest-no-hot-add"], "NotSupported"),
    # Running with Dynamic Memory: Maximum up, Minimum down, buffer, weight.
    ("run-dm", ["--maximum", "16384"], OK, "applied", [], ""),
    ("run-dm", ["--maximum", "4096"], REJECTED, "rejected", ["running-dm-max-lower"],
     ""),
    ("run-dm", ["--minimum", "512"], OK, "applied", [], ""),
    ("run-dm", ["--minimum", "2048"], REJECTED, "rejected", ["running-dm-min-raise"],
     ""),
    ("run-dm", ["--startup", "4096"], REJECTED, "rejected", ["running-dm-startup"], ""),
    ("run-dm", ["--dynamic", "off"], REJECTED, "rejected", ["running-dm-toggle"], ""),
    ("run-dm", ["--buffer", "50", "--weight", "90"], OK, "applied", [], ""),
    ("run-dm", ["--buffer", "2001"], REJECTED, "rejected", ["buffer-range"], ""),
    ("run-dm", ["--startup", "2048"], OK, "unchanged", [], ""),
    # Saved, Paused, transitional and critical states: nothing.
    *[(kind, ["--weight", "60"], REJECTED, "rejected", ["state-readonly"], "")
      for kind in ("saved", "paused", "starting", "stopping", "saving", "pausing",
                   "resuming", "fast-saved", "running-critical")],
    ("saved", ["--startup", "4097"], REJECTED, "rejected",
     ["state-readonly", "align-2mb"], ""),
    ("saved-dm", ["--maximum", "16384"], REJECTED, "rejected", ["state-readonly"], ""),
    ("paused-dm", ["--minimum", "512"], REJECTED, "rejected", ["state-readonly"], ""),
    # Last, since it takes all the host's free memory (rows run in order).
    ("run-static", ["--startup", "1TB"], PARTIAL, "partial", ["host-free-memory"],
     "OutOfMemory"),
]


def vm_name(index: int) -> str:
    return f"{MATRIX[index][0]}-{index:02d}"


def write_scenario(path: Path) -> None:
    """One VM per matrix row, of that row's kind."""
    vms = [{**STATIC, **KINDS[kind], "name": vm_name(index)}
           for index, (kind, *_rest) in enumerate(MATRIX)]
    host = {"name": "HV-MATRIX", "total_mb": 512 * 1024, "reserve_mb": 8192,
            "locale": "en-US"}
    path.write_text(json.dumps({"host": host, "vms": vms}, indent=1), encoding="utf-8")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`hvmem sim serve` on the matrix scenario; yields its URL."""
    folder = tmp_path_factory.mktemp("matrix")
    scenario = folder / "matrix.json"
    write_scenario(scenario)
    env = {**os.environ, "HVMEM_SIM_PASSWORD": PASSWORD}
    for name in ("XDG_STATE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME"):
        env[name] = str(folder / name.lower())
    process = subprocess.Popen(
        [sys.executable, "-m", "hvmem", "sim", "serve", "--scenario", str(scenario),
         "--listen", "127.0.0.1:0", "--user", USER],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), process.communicate(timeout=10)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture()
def host_args(served: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("HVMEM_PASSWORD", PASSWORD)
    return ["--host", served, "--auth", "basic", "--user", USER]


def test_every_kind_arrives_in_its_state(host_args: list[str],
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--json", *host_args]) == 0

    vms = json.loads(capsys.readouterr().out)["vms"]
    listed = {vm["name"]: vm["state"] for vm in vms}
    expected = {vm_name(i): {**STATIC, **KINDS[kind]}["state"]
                for i, (kind, *_rest) in enumerate(MATRIX)}
    assert listed == expected


@pytest.mark.parametrize(
    ("index", "options", "status", "outcome", "reasons", "error_id"),
    [(index, *row[1:]) for index, row in enumerate(MATRIX)],
    ids=[f"{row[0]} {' '.join(row[1])}" for row in MATRIX])
def test_state_matrix(host_args: list[str], capsys: pytest.CaptureFixture[str],
                      index: int, options: list[str], status: int, outcome: str,
                      reasons: list[str], error_id: str) -> None:
    code = main(["set", vm_name(index), *options, "--json", *host_args])

    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert (code, data["outcome"]) == (status, outcome), captured.err
    assert [reason["rule"] for reason in data["reasons"]] == reasons
    assert all(reason["message"] for reason in data["reasons"])
    first_error = data["host_errors"][0]["error_id"] if data["host_errors"] else ""
    assert first_error.split(",")[0] == error_id
    if outcome in ("rejected", "unchanged"):
        assert data["after"] is None or data["after"] == data["before"]
    if outcome == "applied":
        assert data["after"] == data["requested"]
