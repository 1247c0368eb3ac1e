"""Saved hosts (``hosts.json`` in the user's config folder) and their passwords (the OS
keyring). No Qt here: the Connect dialog and the command line both use this module.

A saved host holds how to reach and trust one host (address, auth method, user, CA file
or pinned certificate fingerprint, agent mode, timeouts), never a password. Passwords
live only in the OS keyring, under service ``hvmem`` and key ``USER@URL``. Where no
keyring back end works, `CredentialStore.available` is False and `why_not` says why, so
the caller asks for the password each time instead.

Settings that cannot work (timeouts pywinrm would reject, an unknown agent mode, a
malformed fingerprint, an address that is not WinRM's) are refused when a `SavedHost`
is made, so a dialog can show the rule where it was broken.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import keyring
import keyring.backend
import keyring.errors

from hvmem import paths
from hvmem.errors import ErrorKind, HvmemError
from hvmem.hyperv.connect import (
    AGENT_MODES,
    AUTH_METHODS,
    AgentMode,
    AuthMethod,
    HostTarget,
    check_timeouts,
    normalise_fingerprint,
    parse_host_url,
)

log = logging.getLogger("hvmem.hosts")

HOSTS_FILE = "hosts.json"
KEYRING_SERVICE = "hvmem"
_FORMAT_VERSION = 1


def hosts_path() -> Path:
    return paths.config_dir() / HOSTS_FILE


def _config_error(summary: str, details: str = "", hint: str = "") -> HvmemError:
    return HvmemError(ErrorKind.CONFIG, summary, details=details, hint=hint)


@dataclass(frozen=True)
class SavedHost:
    """One saved host: where it is, how to sign in and what to trust. No password.

    Attributes:
        url: the WinRM address; anything `parse_host_url` accepts, stored canonical.
        name: what the user calls it ("" shows the host name).
        auth: the authentication method.
        user: the account, DOMAIN\\user or user@domain.
        ca_file: a PEM file of CAs trusted for this host only.
        cert_fingerprint: the SHA-256 of this host's certificate, trusted as is.
        verify_tls: False skips certificate checks for this host (explicit, shown).
        allow_unencrypted: permit Basic over plain HTTP to this host.
        agent_mode: "auto", "persistent" or "per-request".
        operation_timeout_s, read_timeout_s: WinRM timeouts, read > operation >= 1.
        cert_pem, cert_key_pem: client certificate files (certificate auth).
    """

    url: str
    name: str = ""
    auth: AuthMethod = "ntlm"
    user: str = ""
    ca_file: str | None = None
    cert_fingerprint: str | None = None
    verify_tls: bool = True
    allow_unencrypted: bool = False
    agent_mode: AgentMode = "auto"
    operation_timeout_s: int = 20
    read_timeout_s: int = 30
    cert_pem: str | None = None
    cert_key_pem: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "url", parse_host_url(self.url))
        object.__setattr__(self, "name", self.name.strip())
        if self.auth not in AUTH_METHODS:
            raise _config_error(f"Unknown authentication method {self.auth!r}",
                                hint="Use one of: " + ", ".join(AUTH_METHODS) + ".")
        if self.agent_mode not in AGENT_MODES:
            raise _config_error(f"Unknown agent mode {self.agent_mode!r}",
                                hint="Use one of: " + ", ".join(AGENT_MODES) + ".")
        check_timeouts(self.operation_timeout_s, self.read_timeout_s)
        if self.cert_fingerprint:
            pinned = normalise_fingerprint(self.cert_fingerprint)
            if len(pinned) != 64 or any(c not in "0123456789abcdef" for c in pinned):
                raise _config_error("The pinned certificate fingerprint is not a SHA-256 "
                                    "hex digest", details=self.cert_fingerprint)
            object.__setattr__(self, "cert_fingerprint", pinned)

    @property
    def display_name(self) -> str:
        return self.name or self.host

    @property
    def host(self) -> str:
        return self.to_target().host

    def to_target(self, password: str = "") -> HostTarget:
        """The `HostTarget` to connect with; the password is given, never stored."""
        return HostTarget(
            url=self.url, auth=self.auth, user=self.user, password=password,
            ca_trust_path=self.ca_file, cert_fingerprint=self.cert_fingerprint,
            verify_tls=self.verify_tls, allow_unencrypted=self.allow_unencrypted,
            cert_pem=self.cert_pem, cert_key_pem=self.cert_key_pem,
            operation_timeout_s=self.operation_timeout_s,
            read_timeout_s=self.read_timeout_s, agent_mode=self.agent_mode,
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SavedHost:
        """A saved host from its JSON object; unknown keys (and any password) ignored.

        Raises:
            HvmemError: kind CONFIG when a value is refused.
        """
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})


def load_hosts() -> list[SavedHost]:
    """The saved hosts, in their saved order; none when the file does not exist.

    Raises:
        HvmemError: kind CONFIG when the file cannot be read or holds something else.
    """
    path = hosts_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise _config_error(f"Could not read the saved hosts in {path}",
                            details=str(exc)) from exc
    try:
        data = json.loads(text)
        entries = data["hosts"]
        if not isinstance(entries, list):
            raise TypeError("hosts is not a list")
        return [SavedHost.from_json(entry) for entry in entries]
    except HvmemError as exc:
        raise _config_error(f"A saved host in {path} has a setting that cannot work",
                            details=f"{exc.summary}\n{exc.details}".strip(),
                            hint="Correct or remove that host in the file.") from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise _config_error(f"The saved hosts file {path} is damaged",
                            details=f"{type(exc).__name__}: {exc}",
                            hint="Correct it, or move it away to start afresh.") from exc


def save_host(host: SavedHost) -> None:
    """Add `host`, or replace the saved host with the same URL (keeping its place)."""
    hosts = load_hosts()
    for index, saved in enumerate(hosts):
        if saved.url == host.url:
            hosts[index] = host
            break
    else:
        hosts.append(host)
    _write(hosts)


def remove_host(url: str) -> bool:
    """Forget the saved host at `url` (any spelling); True if there was one."""
    wanted = parse_host_url(url)
    hosts = load_hosts()
    kept = [host for host in hosts if host.url != wanted]
    if len(kept) == len(hosts):
        return False
    _write(kept)
    return True


def find_host(text: str) -> SavedHost | None:
    """The saved host named `text` (case-insensitive) or at the address `text`."""
    hosts = load_hosts()
    wanted = text.strip().lower()
    for host in hosts:
        if host.name and host.name.lower() == wanted:
            return host
    try:
        url = parse_host_url(text)
    except HvmemError:
        return None
    return next((host for host in hosts if host.url == url), None)


def _write(hosts: list[SavedHost]) -> None:
    """Replace the file in one step, so a crash never leaves half of it."""
    path = hosts_path()
    data = {"version": _FORMAT_VERSION, "hosts": [host.to_json() for host in hosts]}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".hosts-",
                                             suffix=".json")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=2)
            out.write("\n")
        os.replace(temporary, path)
    except OSError as exc:
        raise _config_error(f"Could not save the hosts to {path}",
                            details=str(exc)) from exc
    log.info("saved %d host(s) to %s", len(hosts), path)


def credential_key(user: str, url: str) -> str:
    """The keyring entry of one account on one host."""
    return f"{user}@{url}"


class CredentialStore:
    """Passwords in the OS keyring, by user and host URL; never logged or written
    elsewhere.

    Args:
        backend: a keyring back end to use instead of keyring's configured one (tests).

    Attributes:
        available: False when no keyring back end works; the caller then asks for the
            password each time.
        why_not: why it is not available, for the person ("" when it is).
    """

    def __init__(self, backend: keyring.backend.KeyringBackend | None = None) -> None:
        self._backend = backend
        self.why_not = _why_unusable(backend or _default_backend())
        self.available = not self.why_not

    def get(self, user: str, url: str) -> str | None:
        """The stored password, or None (none stored, or no keyring: see `why_not`).

        Raises:
            HvmemError: kind CONFIG when the keyring fails otherwise (locked, broken).
        """
        key = credential_key(user, url)
        try:
            if self._backend is not None:
                found = self._backend.get_password(KEYRING_SERVICE, key)
            else:
                found = keyring.get_password(KEYRING_SERVICE, key)
        except keyring.errors.NoKeyringError as exc:
            self._unavailable(exc)
            return None
        except Exception as exc:  # any back end's own failure, reported as such
            raise self._failed("read", key, exc) from exc
        return None if found is None else str(found)

    def set(self, user: str, url: str, password: str) -> None:
        """Store `password` for `user` on `url`.

        Raises:
            HvmemError: kind CONFIG when there is no keyring or it refuses.
        """
        key = credential_key(user, url)
        try:
            if self._backend is not None:
                self._backend.set_password(KEYRING_SERVICE, key, password)
            else:
                keyring.set_password(KEYRING_SERVICE, key, password)
        except keyring.errors.NoKeyringError as exc:
            self._unavailable(exc)
            raise self._failed("store", key, exc) from exc
        except Exception as exc:
            raise self._failed("store", key, exc) from exc
        log.info("password for %s stored in the keyring", key)

    def delete(self, user: str, url: str) -> bool:
        """Forget the password for `user` on `url`; True if one was stored.

        Raises:
            HvmemError: kind CONFIG when the keyring fails.
        """
        key = credential_key(user, url)
        try:
            if self._backend is not None:
                self._backend.delete_password(KEYRING_SERVICE, key)
            else:
                keyring.delete_password(KEYRING_SERVICE, key)
        except keyring.errors.PasswordDeleteError:
            return False
        except keyring.errors.NoKeyringError as exc:
            self._unavailable(exc)
            return False
        except Exception as exc:
            raise self._failed("delete", key, exc) from exc
        return True

    def _unavailable(self, exc: Exception) -> None:
        self.available = False
        if not self.why_not:  # the reason found up front is the clearer one
            self.why_not = f"no system keyring works here ({exc})"

    def _failed(self, verb: str, key: str, exc: Exception) -> HvmemError:
        return HvmemError(
            ErrorKind.CONFIG, f"Could not {verb} the password for {key} in the keyring",
            details=f"{type(exc).__name__}: {exc}",
            hint="Unlock the system keyring, or type the password each time.")


def _default_backend() -> keyring.backend.KeyringBackend | None:
    try:
        return keyring.get_keyring()
    except Exception as exc:  # a broken keyring configuration
        log.warning("no keyring back end: %s", exc)
        return None


def _why_unusable(backend: keyring.backend.KeyringBackend | None) -> str:
    """Why `backend` cannot hold passwords, or "" when it can."""
    from keyring.backends import chainer, fail, null

    if backend is None:
        return "keyring could not load any back end"
    if isinstance(backend, fail.Keyring):
        return ("no system keyring was found (such as Windows Credential Manager, "
                "macOS Keychain or a Secret Service like GNOME Keyring)")
    if isinstance(backend, null.Keyring):
        return "the keyring is turned off in keyring's configuration (null back end)"
    if isinstance(backend, chainer.ChainerBackend) and not backend.backends:
        return "no system keyring was found (keyring's chain is empty)"
    return ""
