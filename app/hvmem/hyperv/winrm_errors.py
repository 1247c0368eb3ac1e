"""pywinrm's and requests' exceptions, turned into `HvmemError`s a person can act on.

pywinrm's error model is uneven: network errors arrive as raw `requests` exceptions,
`WinRMTransportError` is not a `WinRMError`, and a 500 may carry its useful reason only in
the SOAP body. `translate` takes any of them and gives one kind, summary, details and
hint.
"""

from __future__ import annotations

import hashlib
import html
import re
import socket
import ssl
from urllib.parse import urlsplit

import requests
from winrm.exceptions import (
    InvalidCredentialsError,
    WinRMError,
    WinRMOperationTimeoutError,
    WinRMTransportError,
    WSManFaultError,
)

from hvmem.errors import ErrorKind, HvmemError

# Everything a pywinrm call can raise for a transport reason (AssertionError: pywinrm
# asserts that RelatesTo matches on Signal and Delete).
TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    WinRMError, WinRMTransportError, WinRMOperationTimeoutError,
    requests.RequestException, AssertionError, OSError,
)
ACCESS_DENIED_CODES = {2147942405}  # 0x80070005 E_ACCESSDENIED
QUOTA_CODES = {2150859173, 2150859174}  # max shells per user, max operations per user

_F_MESSAGE = re.compile(r"<(?:\w+:)?Message[^>]*>(.*?)</(?:\w+:)?Message>", re.S)


def translate(exc: BaseException, url: str, user: str = "",
              deadline_s: float | None = None) -> HvmemError:
    """The `HvmemError` for a failure talking to the host at `url`.

    Args:
        exc: what pywinrm or requests raised.
        url: the endpoint, for messages.
        user: the account, for messages (never the password).
        deadline_s: the call's deadline, named in a timeout's summary.
    """
    host = urlsplit(url).hostname or url
    if isinstance(exc, InvalidCredentialsError):
        return _auth(exc, host, user)
    if isinstance(exc, WSManFaultError):
        return _fault(exc, host, user)
    if isinstance(exc, WinRMTransportError):
        return _transport(exc, host)
    if isinstance(exc, WinRMOperationTimeoutError):
        return timeout_error(host, deadline_s,
                             "the host answered with an operation timeout")
    if isinstance(exc, requests.exceptions.SSLError):
        return _tls(exc, url, host)
    if isinstance(exc, requests.exceptions.Timeout):
        return timeout_error(host, deadline_s, str(exc))
    if isinstance(exc, (requests.RequestException, OSError)):
        return HvmemError(
            ErrorKind.UNREACHABLE, f"Cannot reach {host}", details=str(exc), host=host,
            hint="Check the address and port, that WinRM listens there (5985 for http, "
                 "5986 for https; `winrm quickconfig` on the host) and the firewall.")
    if isinstance(exc, AssertionError):
        return HvmemError(
            ErrorKind.WSMAN_FAULT,
            f"{host} answered a different request than the one sent",
            details=f"The response's RelatesTo did not match the request's MessageID. "
                    f"{exc}", host=host,
            hint="A proxy or load balancer may be mixing connections; connect directly.")
    return HvmemError(ErrorKind.WSMAN_FAULT, f"WinRM failed talking to {host}",
                      details=f"{type(exc).__name__}: {exc}", host=host)


def timeout_error(host: str, seconds: float | None, details: str) -> HvmemError:
    within = f" within {seconds:g} s" if seconds is not None else " in time"
    return HvmemError(
        ErrorKind.TIMEOUT, f"{host} did not answer{within}", details=details, host=host,
        hint="The host or its Hyper-V service may be busy or hung. The connection was "
             "reset; the next try reconnects.")


def _auth(exc: InvalidCredentialsError, host: str, user: str) -> HvmemError:
    return HvmemError(
        ErrorKind.AUTH, "The credentials were rejected", host=host,
        details=f"{exc} (user {user!r})" if user else str(exc),
        hint="Check the password; write a domain account as DOMAIN\\user or user@domain; "
             "check the authentication method (Basic works only for local accounts, NTLM "
             "or Kerberos for domain ones); a local administrator other than the "
             "built-in one needs remote UAC lifted (LocalAccountTokenFilterPolicy=1).")


def _fault(exc: WSManFaultError, host: str, user: str) -> HvmemError:
    reason = (exc.reason or "").strip()
    details = "\n".join(line for line in (
        reason,
        f"Fault: {exc.fault_code or '?'} / {exc.fault_subcode or '?'}",
        f"WSManFault code: {exc.wsman_fault_code}" if exc.wsman_fault_code else "",
        f"WMI error code: {exc.wmierror_code}" if exc.wmierror_code else "",
        f"HTTP status: {exc.code}",
    ) if line)
    if exc.wsman_fault_code in ACCESS_DENIED_CODES:
        return HvmemError(
            ErrorKind.ACCESS_DENIED,
            f"{user or 'This account'} may not use WinRM on {host}",
            details=details, host=host,
            hint="Use an administrator of the host, or add the account to Remote "
                 "Management Users and Hyper-V Administrators.")
    subcode = exc.fault_subcode or ""
    if exc.wsman_fault_code in QUOTA_CODES or subcode.endswith("QuotaLimit"):
        return HvmemError(
            ErrorKind.QUOTA, f"{host} refused a new session: a WinRM quota is reached",
            details=details, host=host,
            hint="Close other remote sessions to the host, or raise MaxShellsPerUser "
                 "(winrm/config/winrs) there.")
    if subcode.endswith("InvalidSelectors"):
        hint = ("The host no longer knows hvmem's session (its WinRM service restarted "
                "or the shell timed out); the next try reconnects.")
    else:
        hint = ("This is the host's own reason. Some faults pass (try again); if it "
                "stays, see the host's event log: Microsoft-Windows-WinRM/Operational.")
    return HvmemError(ErrorKind.WSMAN_FAULT,
                      f"{host} refused the request: {reason or 'a WS-Management fault'}",
                      details=details, host=host, hint=hint)


def _transport(exc: WinRMTransportError, host: str) -> HvmemError:
    body = exc.response_text or ""
    found = _F_MESSAGE.search(body)
    message = re.sub(r"\s+", " ", found.group(1)).strip() if found else ""
    summary = (f"{host} refused the request: {message}" if message
               else f"{host} answered with HTTP {exc.code}")
    return HvmemError(ErrorKind.WSMAN_FAULT, summary, host=host,
                      details=f"HTTP {exc.code}\n{body[:2000]}".rstrip(),
                      hint="The WinRM service could not handle the request; if it "
                      "stays, see the host's event log (Microsoft-Windows-WinRM/"
                      "Operational).")


def _tls(exc: requests.exceptions.SSLError, url: str, host: str) -> HvmemError:
    fingerprint = peer_fingerprint(url)
    details = str(exc)
    if fingerprint:
        details += (f"\nThe host presented a certificate with SHA-256 fingerprint "
                    f"{fingerprint}")
    return HvmemError(
        ErrorKind.TLS, f"The certificate of {host} is not trusted", details=details,
        host=host, cert_fingerprint=fingerprint,
        hint="Choose the CA or certificate file that signed the host's certificate, or "
             "pin its fingerprint after checking it on the host (Get-ChildItem "
             "WSMan:\\localhost\\Listener).")


def peer_fingerprint(url: str, timeout: float = 3.0) -> str:
    """The SHA-256 fingerprint of the certificate an https host presents, or "".

    It is fetched without verification, only to show it to the user.
    """
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        return ""
    try:
        pem = ssl.get_server_certificate((parts.hostname, parts.port or 443),
                                         timeout=timeout)
    except (OSError, ssl.SSLError, socket.timeout):
        return ""
    digest = hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def clixml_text(stderr: bytes) -> str:
    """stderr as readable text: a CLIXML document's records, or the bytes decoded."""
    text = stderr.decode("utf-8", errors="replace").lstrip("\ufeff")
    if not text.startswith("#< CLIXML"):
        return text.strip()
    records = re.findall(r'<S S="([^"]*)">(.*?)</S>', text, re.S)
    lines = []
    for stream, value in records:
        unescaped = html.unescape(value)  # XML entities first, then PowerShell's _xHHHH_
        decoded = re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)),
                         unescaped)
        prefix = "" if stream.lower() == "error" else f"[{stream}] "
        lines.append(prefix + decoded.rstrip("\r\n"))
    return "\n".join(lines) if lines else text.strip()
