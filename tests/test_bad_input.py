"""Bad input from people and files: odd host addresses, credentials Basic cannot carry,
sizes in other scripts, broken scenario files, and a failure nobody foresaw. Each
reaches the user as a specific message, never a traceback or a silently changed value."""

from __future__ import annotations

import argparse
import copy
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from hvmem import cli_commands, paths
from hvmem.cli import main
from hvmem.errors import ErrorKind, HvmemError
from hvmem.hyperv.connect import HostTarget, parse_host_url
from hvmem.sim.scenario import ScenarioError, host_from_data, load_scenario, scenarios_dir
from hvmem.units import parse_size_mb


@pytest.mark.parametrize("text", ["http://127.0.0.1:0/wsman", "hv01:0", "https://hv01:0"])
def test_port_0_is_refused_not_replaced_by_the_default(text: str) -> None:
    with pytest.raises(HvmemError) as caught:
        parse_host_url(text)
    assert caught.value.kind is ErrorKind.CONFIG and "port 0" in caught.value.summary


@pytest.mark.parametrize("user, password, named", [
    ("demo", "pä:ss€ w:rd", "password"),  # beyond Latin-1: the client library crashed
    ("demo", "pä", "password"),  # Latin-1, but the host may decode it otherwise
    ("Админ", "pw", "user name"),
    ("a:b", "pw", "':'"),
])
def test_basic_credentials_it_cannot_carry_are_a_config_error(
        user: str, password: str, named: str) -> None:
    target = HostTarget(url="http://127.0.0.1:5985/wsman", auth="basic", user=user,
                        password=password)
    with pytest.raises(HvmemError) as caught:
        target.check()
    assert caught.value.kind is ErrorKind.CONFIG and named in caught.value.summary
    assert password not in str(caught.value) + caught.value.details
    assert "NTLM" in caught.value.hint


def test_ntlm_takes_any_password() -> None:
    HostTarget(url="http://127.0.0.1:5985/wsman", auth="ntlm", user="demo",
               password="pä:ss€ w:rd").check()


def test_a_unicode_basic_password_on_the_command_line_is_a_message(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HVMEM_PASSWORD", "pä:ss€ w:rd")
    status = main(["list", "--host", "http://127.0.0.1:1/wsman", "--user", "demo",
                   "--auth", "basic"])
    err = capsys.readouterr().err
    assert status == 1 and "Basic authentication cannot carry a password" in err
    assert "Traceback" not in err and "pä:ss€" not in err


@pytest.fixture()
def log_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setattr(paths, "log_dir", lambda: tmp_path)
    yield tmp_path / "hvmem.log"
    for handler in logging.getLogger("hvmem").handlers:
        handler.close()
    logging.getLogger("hvmem").handlers.clear()


def test_an_unforeseen_failure_is_one_line_and_its_traceback_goes_to_the_log(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        log_in_tmp: Path) -> None:
    @contextmanager
    def broken(args: argparse.Namespace) -> Iterator[None]:
        raise RuntimeError("something nobody foresaw")
        yield

    monkeypatch.setattr(cli_commands, "connected", broken)
    status = main(["list"])
    err = capsys.readouterr().err
    assert status == 1
    assert "internal error" in err and "something nobody foresaw" in err
    assert "Traceback" not in err
    assert "Traceback" in log_in_tmp.read_text(encoding="utf-8")


@pytest.mark.parametrize("text", ["९९", "４０９６", "٤GB", "1७"])
def test_sizes_in_other_digits_are_refused_with_the_reason(text: str) -> None:
    with pytest.raises(ValueError, match="digits other than 0-9"):
        parse_size_mb(text)


@pytest.mark.parametrize("text, mb", [("4096", 4096), ("4 GB", 4096), ("4gb", 4096),
                                      ("4\u00a0GB", 4096), (".5GB", 512)])
def test_sizes_in_0_to_9_still_parse(text: str, mb: int) -> None:
    assert parse_size_mb(text) == mb


DESKTOP = json.loads((scenarios_dir() / "desktop.json").read_text(encoding="utf-8"))


def first_vm(**fields: object) -> dict[str, object]:
    data = copy.deepcopy(DESKTOP)
    data["vms"][0].update(fields)
    return data


@pytest.mark.parametrize("data, message", [
    (first_vm(colour="red"), "vms[0].colour: unknown key"),
    (first_vm(startup="4096"), "vms[0].startup: unknown key"),
    (first_vm(guest={**DESKTOP["vms"][0]["guest"], "in_use": 5}),
     "vms[0].guest.in_use: unknown key"),
    ({**DESKTOP, "host": {**DESKTOP["host"], "reserve": 1}}, "host.reserve: unknown key"),
    ({**DESKTOP, "host": {**DESKTOP["host"], "texts": {"not_a_text": "x"}}},
     "host.texts.not_a_text: unknown key"),
    ({**DESKTOP, "hosts": []}, "hosts: unknown key"),
    (first_vm(name=""), "vms[0].name: '' is empty"),
    (first_vm(uptime_s=-1), "vms[0].uptime_s: -1"),
    (first_vm(demand_mb=-5), "vms[0].demand_mb: -5"),
])
def test_every_scenario_mistake_is_named(data: object, message: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        host_from_data(data)
    assert message in caught.value.summary


def test_a_scenario_with_a_bom_loads(tmp_path: Path) -> None:  # F04: Notepad's BOM
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(DESKTOP).encode("utf-8"))
    assert len(load_scenario(str(path)).vms()) == len(DESKTOP["vms"])


def test_a_scenario_not_in_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "latin1.json"
    text = json.dumps(first_vm(name="Café"), ensure_ascii=False)
    path.write_bytes(text.encode("cp1252"))
    with pytest.raises(ScenarioError, match="not UTF-8 text"):
        load_scenario(str(path))
