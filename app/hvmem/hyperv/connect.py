"""Host addresses and credentials, checked, and the `HostClient` they open.

`HostTarget` holds everything needed to reach one host's WinRM endpoint; its password
never appears in a repr or a log. `parse_host_url` accepts what a person types ("hv01",
"hv01:5985", "https://hv01:5986/wsman") and returns the one canonical URL.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from hvmem.errors import ErrorKind, HvmemError
from hvmem.hyperv.client import HostClient, Timeouts

AuthMethod = Literal["basic", "ntlm", "kerberos", "credssp", "certificate"]
AUTH_METHODS: tuple[AuthMethod, ...] = ("basic", "ntlm", "kerberos", "credssp",
                                        "certificate")
# The methods that sign in with a user name and a password; Kerberos uses the ticket of
# the signed-in user, certificate authentication a key file.
PASSWORD_METHODS = frozenset({"basic", "ntlm", "credssp"})
# How the agent runs on the host: one long-lived process fed line by line, one process
# per request fed its request and then end of input, or the first that works.
AgentMode = Literal["auto", "persistent", "per-request"]
AGENT_MODES: tuple[AgentMode, ...] = ("auto", "persistent", "per-request")
DEFAULT_PORTS = {"http": 5985, "https": 5986}

_HOST_NAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?$")
_FINGERPRINT = re.compile(r"^[0-9a-f]{64}$")


def _config_error(summary: str, details: str = "", hint: str = "") -> HvmemError:
    return HvmemError(ErrorKind.CONFIG, summary, details=details, hint=hint)


def parse_host_url(text: str) -> str:
    """The canonical WinRM URL for what a person typed.

    A bare name (or name:port) means HTTPS on 5986, or HTTP when the port is 5985. A full
    URL must be http or https, and its path empty or ``/wsman``.

    Raises:
        HvmemError: kind CONFIG, saying what is wrong with the address.
    """
    given = text.strip()
    if not given:
        raise _config_error("No host address given",
                            hint="Type a host name, such as hv01 or "
                                 "https://hv01:5986/wsman.")
    has_scheme = "://" in given
    try:
        parts = urlsplit(given if has_scheme else "//" + given)
        port = parts.port
    except ValueError as exc:
        raise _config_error(f"{given!r} is not a valid host address", details=str(exc),
                            hint="Use HOST, HOST:PORT or https://HOST:PORT/wsman.",
                            ) from exc

    scheme = parts.scheme.lower() if has_scheme else (
        "http" if port == DEFAULT_PORTS["http"] else "https")
    if scheme not in DEFAULT_PORTS:
        raise _config_error(f"{given!r} is not a WinRM address: the scheme must be http "
                            f"or https", hint="Use https://HOST:5986/wsman.")
    if parts.username is not None or parts.password is not None:
        raise _config_error("The host address must not contain a user or password",
                            hint="Type the user and password in their own fields.")
    if parts.path not in ("", "/", "/wsman") or parts.query or parts.fragment:
        raise _config_error(f"{given!r} is not a WinRM address: the path must be /wsman",
                            hint="Use https://HOST:5986/wsman.")

    if port == 0:
        raise _config_error(f"{given!r} names port 0, where nothing can listen",
                            hint="Leave the port out (5986 for https, 5985 for http) or "
                                 "give the one WinRM listens on.")
    host = _check_host(parts.hostname or "", given)
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}:{port or DEFAULT_PORTS[scheme]}/wsman"


def _check_host(host: str, given: str) -> str:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if not _HOST_NAME.match(host) or ".." in host:
        raise _config_error(f"{given!r} has no valid host name",
                            hint="Use a DNS name or an IP address, such as "
                                 "hv01.lab.local.")
    return host.lower()


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class HostTarget:
    """One host's WinRM endpoint and how to authenticate to it.

    Attributes:
        url: the canonical URL (`parse_host_url`).
        auth: the authentication method.
        user: the account, such as ``LAB\\admin`` or ``admin@lab.local``.
        password: never shown in a repr or logged.
        ca_trust_path: a PEM bundle trusted for the host's certificate; None trusts the
            operating system's store and requests' bundle, never an environment
            variable.
        cert_fingerprint: a SHA-256 fingerprint (hex) to pin instead of a CA check.
        verify_tls: False skips certificate checks for this host (an explicit opt-in).
        allow_unencrypted: permit Basic auth over plain HTTP to a non-loopback host.
        cert_pem, cert_key_pem: client certificate files for certificate auth.
        proxy: an HTTP proxy URL; None means no proxy (environment variables are ignored).
        operation_timeout_s: how long the host may hold one request (WS-Man
            OperationTimeout).
        read_timeout_s: how long to wait for any HTTP answer; must exceed the former.
        agent_mode: "auto" tries a long-lived agent and falls back to one agent process
            per request when its first (read-only) request gets no answer within
            `probe_s`; the other two force a mode.
        probe_s: how long "auto" waits for the first answer before falling back.
    """

    url: str
    auth: AuthMethod = "ntlm"
    user: str = ""
    password: str = field(default="", repr=False)
    ca_trust_path: str | None = None
    cert_fingerprint: str | None = None
    verify_tls: bool = True
    allow_unencrypted: bool = False
    cert_pem: str | None = None
    cert_key_pem: str | None = None
    proxy: str | None = None
    operation_timeout_s: int = 20
    read_timeout_s: int = 30
    agent_mode: AgentMode = "auto"
    probe_s: float = 8.0

    def __post_init__(self) -> None:
        # Timeouts pywinrm would reject are refused where they are entered, not later
        # at connect time (F08).
        check_timeouts(self.operation_timeout_s, self.read_timeout_s)

    @property
    def host(self) -> str:
        """The host name or address, for messages."""
        return urlsplit(self.url).hostname or self.url

    @property
    def uses_tls(self) -> bool:
        return self.url.lower().startswith("https://")

    def check(self) -> None:
        """Refuse settings that cannot work or would expose the password.

        Raises:
            HvmemError: kind CONFIG, naming the rule that was broken.
        """
        if parse_host_url(self.url) != self.url:
            raise _config_error(f"{self.url!r} is not a canonical WinRM URL",
                                hint="Build targets with parse_host_url().")
        if self.auth not in AUTH_METHODS:
            raise _config_error(f"Unknown authentication method {self.auth!r}",
                                hint="Use one of: " + ", ".join(AUTH_METHODS) + ".")
        check_timeouts(self.operation_timeout_s, self.read_timeout_s)
        if self.agent_mode not in AGENT_MODES:
            raise _config_error(f"Unknown agent mode {self.agent_mode!r}",
                                hint="Use one of: " + ", ".join(AGENT_MODES) + ".")
        if not self.probe_s > 0:
            raise _config_error("The agent probe time must be more than 0 s",
                                details=f"probe time {self.probe_s} s")
        self._check_credentials()
        if (self.auth == "basic" and not self.uses_tls and not self.allow_unencrypted
                and not is_loopback(self.host)):
            raise _config_error(
                f"Basic authentication over plain HTTP to {self.host} would send the "
                f"password unencrypted",
                hint="Use https (port 5986), or NTLM/Kerberos, or allow unencrypted "
                     "traffic for this host explicitly.")
        if self.cert_fingerprint is not None:
            if not _FINGERPRINT.match(normalise_fingerprint(self.cert_fingerprint)):
                raise _config_error("The pinned certificate fingerprint is not a SHA-256 "
                                    "hex digest", details=self.cert_fingerprint)
            if not self.uses_tls:
                raise _config_error("A certificate fingerprint needs an https address")

    def _check_credentials(self) -> None:
        if self.auth == "certificate":
            if not self.uses_tls or not self.cert_pem or not self.cert_key_pem:
                raise _config_error("Certificate authentication needs https and both a "
                                    "certificate and a key file")
        elif self.auth in PASSWORD_METHODS and not self.user:
            raise _config_error(f"{self.auth.upper()} authentication needs a user name",
                                hint="Type DOMAIN\\user, user@domain or a local user.")
        if self.auth == "basic":
            self._check_basic_credentials()

    def _check_basic_credentials(self) -> None:
        # Basic defines no character set: the client library sends Latin-1 (and fails
        # outright beyond it) while hosts may decode otherwise, so a right password would
        # be refused or crash. NTLM and Kerberos carry any character.
        hint = "Use NTLM or Kerberos, which carry any character."
        if ":" in self.user:
            raise _config_error("Basic authentication cannot carry a user name with ':'",
                                details=f"user {self.user!r}", hint=hint)
        if not self.user.isascii():
            raise _config_error("Basic authentication cannot carry a user name with "
                                "characters outside ASCII", details=f"user {self.user!r}",
                                hint=hint)
        if not self.password.isascii():
            # The password itself is never shown.
            raise _config_error("Basic authentication cannot carry a password with "
                                "characters outside ASCII", hint=hint)


def check_timeouts(operation_timeout_s: object, read_timeout_s: object) -> None:
    """Refuse a pair of WinRM timeouts that pywinrm would reject when connecting.

    pywinrm's rule: the read timeout must exceed the operation timeout, and both must be
    whole seconds above 0.

    Raises:
        HvmemError: kind CONFIG, naming that rule.
    """
    operation, read = operation_timeout_s, read_timeout_s
    rule = ("The read timeout must be greater than the operation timeout, and both "
            "at least 1 s")
    details = f"operation timeout {operation!r} s, read timeout {read!r} s"
    if (not isinstance(operation, int) or not isinstance(read, int)
            or isinstance(operation, bool) or isinstance(read, bool)):
        raise _config_error(rule + " (whole seconds)", details=details)
    if operation < 1 or read <= operation:
        raise _config_error(rule, details=details,
                            hint=f"Set the read timeout to at least "
                                 f"{max(operation, 1) + 10} s.")


def normalise_fingerprint(text: str) -> str:
    """A fingerprint as lower-case hex without separators ("AB:CD..." -> "abcd...")."""
    return re.sub(r"[\s:]", "", text).lower()


def open_client(target: HostTarget, timeouts: Timeouts | None = None) -> HostClient:
    """A `HostClient` for `target`; nothing connects until its first call.

    Raises:
        HvmemError: kind CONFIG when the target's settings are refused.
    """
    from hvmem.hyperv.winrm_channel import WinrmChannel

    return HostClient(WinrmChannel(target), target.host, timeouts)
