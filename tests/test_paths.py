"""Where hvmem keeps its files, and how tests move them away from the user's."""

from pathlib import Path

import pytest

from hvmem import hosts, paths


def test_folders_follow_their_environment_variables(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HVMEM_LOG_DIR", str(tmp_path / "log"))
    monkeypatch.setenv("HVMEM_CONFIG_DIR", str(tmp_path / "config"))

    assert paths.log_dir() == tmp_path / "log"
    assert hosts.hosts_path() == tmp_path / "config" / "hosts.json"
