"""Saved hosts in a temporary config folder, passwords in a fake keyring, and the
command line's use of both."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backend
import keyring.errors
import pytest
from keyring.backends import fail

from hvmem import hosts, paths
from hvmem.cli import build_parser, main
from hvmem.cli_commands import target_from_args
from hvmem.errors import ErrorKind, HvmemError
from hvmem.hosts import CredentialStore, SavedHost
from hvmem.sim.agent import SimAgent
from hvmem.sim.scenario import load_scenario
from hvmem.sim.wsman import WsmanServer

SECRET = "Tr0ub4dor&3-never-on-disk"


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring that keeps passwords in a dict, as a test stand-in."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.entries.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError("not stored")


class LockedKeyring(MemoryKeyring):
    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("the collection is locked")


@pytest.fixture(autouse=True)
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(paths.CONFIG_DIR_ENV, str(tmp_path / "config"))
    return tmp_path / "config"


def test_no_file_means_no_saved_hosts() -> None:
    assert hosts.load_hosts() == []


def test_hosts_round_trip_through_the_file_without_a_password(config_dir: Path) -> None:
    first = SavedHost("HV01", name="Lab host", auth="ntlm", user="LAB\\admin",
                      ca_file="/etc/lab-ca.pem", agent_mode="per-request",
                      operation_timeout_s=30, read_timeout_s=45)
    second = SavedHost("https://hv02:5986/wsman", auth="basic", user="admin",
                       cert_fingerprint="AB:" * 31 + "AB")
    store = CredentialStore(MemoryKeyring())

    hosts.save_host(first)
    hosts.save_host(second)
    store.set("LAB\\admin", first.url, SECRET)
    loaded = hosts.load_hosts()

    assert loaded == [first, second]
    assert loaded[0].url == "https://hv01:5986/wsman"
    assert loaded[1].cert_fingerprint == "ab" * 32
    text = (config_dir / "hosts.json").read_text(encoding="utf-8")
    assert SECRET not in text and "password" not in text
    assert json.loads(text)["hosts"][0]["agent_mode"] == "per-request"


def test_saving_the_same_address_replaces_it_in_place() -> None:
    hosts.save_host(SavedHost("hv01", user="a"))
    hosts.save_host(SavedHost("hv02", user="b"))

    hosts.save_host(SavedHost("https://HV01:5986/wsman", user="c"))

    assert [(h.host, h.user) for h in hosts.load_hosts()] == [("hv01", "c"), ("hv02", "b")]


def test_remove_and_find_by_name_or_address() -> None:
    hosts.save_host(SavedHost("hv01", name="Lab"))
    hosts.save_host(SavedHost("hv02:5985"))

    by_name = hosts.find_host("lab")
    by_url = hosts.find_host("http://hv02:5985/wsman")
    removed = hosts.remove_host("hv01")

    assert by_name is not None and by_name.host == "hv01"
    assert by_url is not None and by_url.url == "http://hv02:5985/wsman"
    assert removed is True and hosts.remove_host("hv01") is False
    assert hosts.find_host("Lab") is None


def test_a_saved_host_becomes_a_target_with_its_trust_and_mode() -> None:
    saved = SavedHost("hv01", user="LAB\\admin", cert_fingerprint="cd" * 32,
                      agent_mode="persistent", operation_timeout_s=10, read_timeout_s=20)

    target = saved.to_target(SECRET)

    target.check()
    assert (target.url, target.cert_fingerprint, target.agent_mode) == (
        "https://hv01:5986/wsman", "cd" * 32, "persistent")
    assert (target.operation_timeout_s, target.read_timeout_s) == (10, 20)
    assert SECRET not in repr(saved) + repr(target)


@pytest.mark.parametrize(("fields", "words"), [
    (dict(operation_timeout_s=60, read_timeout_s=30),
     "read timeout must be greater than the operation timeout"),
    (dict(operation_timeout_s=0, read_timeout_s=30), "both at least 1 s"),
    (dict(operation_timeout_s=20, read_timeout_s=20), "read timeout must be greater"),
    (dict(operation_timeout_s=2.5, read_timeout_s=30), "whole seconds"),
    (dict(agent_mode="always"), "Unknown agent mode"),
    (dict(auth="digest"), "Unknown authentication method"),
    (dict(cert_fingerprint="12:34"), "not a SHA-256"),
])
def test_settings_that_cannot_work_are_refused_where_entered(
        fields: dict[str, object], words: str) -> None:
    with pytest.raises(HvmemError) as caught:
        SavedHost("hv01", **fields)  # type: ignore[arg-type]

    assert caught.value.kind is ErrorKind.CONFIG
    assert words in caught.value.summary


def test_a_damaged_file_is_a_clear_config_error(config_dir: Path) -> None:
    config_dir.mkdir(parents=True)
    (config_dir / "hosts.json").write_text("{not json", encoding="utf-8")

    with pytest.raises(HvmemError) as caught:
        hosts.load_hosts()

    assert caught.value.kind is ErrorKind.CONFIG
    assert "is damaged" in caught.value.summary
    assert str(config_dir / "hosts.json") in caught.value.summary


def test_a_saved_host_with_bad_timeouts_in_the_file_is_refused(config_dir: Path) -> None:
    config_dir.mkdir(parents=True)
    (config_dir / "hosts.json").write_text(json.dumps({"hosts": [
        {"url": "hv01", "operation_timeout_s": 60, "read_timeout_s": 30,
         "password": "ignored-and-never-used"}]}), encoding="utf-8")

    with pytest.raises(HvmemError) as caught:
        hosts.load_hosts()

    assert "cannot work" in caught.value.summary
    assert "read timeout must be greater" in caught.value.details


def test_credentials_are_kept_per_user_and_host() -> None:
    backend = MemoryKeyring()
    store = CredentialStore(backend)

    store.set("LAB\\admin", "https://hv01:5986/wsman", SECRET)

    assert store.available and store.why_not == ""
    assert store.get("LAB\\admin", "https://hv01:5986/wsman") == SECRET
    assert store.get("LAB\\admin", "https://hv02:5986/wsman") is None
    assert backend.entries == {("hvmem", "LAB\\admin@https://hv01:5986/wsman"): SECRET}
    assert store.delete("LAB\\admin", "https://hv01:5986/wsman") is True
    assert store.delete("LAB\\admin", "https://hv01:5986/wsman") is False


def test_without_a_keyring_the_store_says_why_and_the_caller_asks() -> None:
    store = CredentialStore(fail.Keyring())

    found = store.get("admin", "https://hv01:5986/wsman")

    assert found is None
    assert store.available is False
    assert "no system keyring" in store.why_not
    with pytest.raises(HvmemError) as caught:
        store.set("admin", "https://hv01:5986/wsman", SECRET)
    assert caught.value.kind is ErrorKind.CONFIG
    assert SECRET not in str(caught.value) + caught.value.details


def test_a_locked_keyring_is_reported_not_swallowed() -> None:
    store = CredentialStore(LockedKeyring())

    with pytest.raises(HvmemError) as caught:
        store.get("admin", "https://hv01:5986/wsman")

    assert caught.value.kind is ErrorKind.CONFIG
    assert "KeyringLocked" in caught.value.details
    assert "the collection is locked" in caught.value.details


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def sim_server() -> Iterator[WsmanServer]:
    sim_host = load_scenario("desktop", seed=1)
    server = WsmanServer(lambda: SimAgent(sim_host), {"alice": SECRET},
                         receive_wait=0.1).start()
    yield server
    server.stop()


def test_the_cli_uses_a_saved_host_by_name_with_its_keyring_password(
        sim_server: WsmanServer, memory_keyring: MemoryKeyring,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("HVMEM_PASSWORD", raising=False)
    saved = SavedHost(sim_server.url, name="Lab", auth="basic", user="alice",
                      agent_mode="per-request", operation_timeout_s=2,
                      read_timeout_s=10)
    hosts.save_host(saved)
    CredentialStore().set("alice", saved.url, SECRET)

    code = main(["list", "--host", "lab", "--json"])

    out = capsys.readouterr().out
    assert code == 0
    assert json.loads(out)["vms"]
    # Per-request mode, from the saved host: one Send carrying script, request and end.
    assert sim_server.stats.actions["Send"] == 1


def test_cli_options_override_the_saved_host(memory_keyring: MemoryKeyring,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HVMEM_PASSWORD", SECRET)
    hosts.save_host(SavedHost("hv01", name="Lab", user="LAB\\admin",
                              ca_file="/etc/lab-ca.pem"))
    args = build_parser().parse_args(["list", "--host", "Lab", "--agent-mode",
                                      "persistent", "--trust-fingerprint", "ef" * 32])

    target = target_from_args(args)

    assert (target.url, target.user, target.ca_trust_path) == (
        "https://hv01:5986/wsman", "LAB\\admin", "/etc/lab-ca.pem")
    assert (target.agent_mode, target.cert_fingerprint) == ("persistent", "ef" * 32)
    assert target.password == SECRET


def test_the_cli_says_why_it_cannot_keep_passwords(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    monkeypatch.delenv("HVMEM_PASSWORD", raising=False)
    try:
        code = main(["list", "--host", "hv01", "--user", "bob"])
    finally:
        keyring.set_keyring(previous)

    err = capsys.readouterr().err
    assert code == 1
    assert "No password for bob@https://hv01:5986/wsman" in err
    assert "Passwords cannot be stored: no system keyring was found" in err
    assert "HVMEM_PASSWORD" in err
