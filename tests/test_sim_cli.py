"""`hvmem sim serve` and `hvmem sim agent` as a user runs them: separate processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from hvmem.hyperv.connect import HostTarget, open_client
from hvmem.hyperv.protocol import MARKER
from hvmem.sim.cli import parse_listen


def _env(tmp_path: Path, password: str | None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if key != "HVMEM_SIM_PASSWORD"}
    # Keep the child's log and settings out of the user's own folders.
    for name in ("XDG_STATE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
        env[name] = str(tmp_path / name.lower())
    if password is not None:
        env["HVMEM_SIM_PASSWORD"] = password
    return env


def _hvmem(*args: str) -> list[str]:
    return [sys.executable, "-m", "hvmem", *args]


@pytest.mark.timeout(30)
def test_serve_prints_its_url_first_and_answers(tmp_path: Path) -> None:
    process = subprocess.Popen(
        _hvmem("sim", "serve", "--scenario", "desktop", "--listen", "127.0.0.1:0",
               "--user", "alice"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=_env(tmp_path, "pw-42"))
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        target = HostTarget(url, auth="basic", user="alice", password="pw-42")
        client = open_client(target)
        hello = client.hello()
        client.close()
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=10)
    assert process.stderr is not None
    told = process.stderr.read()

    assert url.startswith("http://127.0.0.1:") and url.endswith("/wsman")
    assert hello.simulated is True
    assert code == 0
    # People are told how to connect: Basic auth, the user, the password's variable.
    assert f"--host {url} --auth basic --user alice" in told
    assert "HVMEM_PASSWORD" in told and "pw-42" not in told


def test_serve_without_a_password_exits_2(tmp_path: Path) -> None:
    result = subprocess.run(_hvmem("sim", "serve"), capture_output=True, text=True,
                            env=_env(tmp_path, None), timeout=30)

    assert result.returncode == 2
    assert "HVMEM_SIM_PASSWORD" in result.stderr
    assert result.stdout == ""


def test_serve_with_an_unknown_scenario_exits_1(tmp_path: Path) -> None:
    result = subprocess.run(_hvmem("sim", "serve", "--scenario", "no-such-scenario"),
                            capture_output=True, text=True, env=_env(tmp_path, "pw"),
                            timeout=30)

    assert result.returncode == 1
    assert "no-such-scenario" in result.stderr


def test_agent_answers_stdin_lines(tmp_path: Path) -> None:
    request = json.dumps({"id": 7, "op": "hello", "args": {}}) + "\n"

    result = subprocess.run(_hvmem("sim", "agent", "--scenario", "desktop"),
                            input=request, capture_output=True, text=True,
                            env=_env(tmp_path, None), timeout=30)

    assert result.returncode == 0
    answer = json.loads(result.stdout.strip().removeprefix(MARKER))
    assert (answer["id"], answer["ok"]) == (7, True)


@pytest.mark.parametrize("listen", ["0.0.0.0:5985", "10.1.2.3:80", "hv01:5985",
                                    "127.0.0.1", "127.0.0.1:70000"])
def test_listen_must_be_loopback_with_a_port(listen: str) -> None:
    with pytest.raises(ValueError):
        parse_listen(listen)


def test_listen_accepts_loopback() -> None:
    assert parse_listen("127.0.0.1:0") == ("127.0.0.1", 0)
    assert parse_listen("localhost:5985") == ("127.0.0.1", 5985)
