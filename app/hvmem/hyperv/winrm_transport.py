"""pywinrm's `Protocol` built from a `HostTarget`: authentication, trust and deadlines.

`build_protocol` is the one place a target's settings become pywinrm arguments. Trust is
exactly what the target says (a CA file, a pinned fingerprint, the system store, or an
explicit per-host opt-out); nothing here ever retries with weaker settings or over HTTP.
`Deadline` is a call's end in time, and `fit_to_deadline` shrinks pywinrm's timeouts so
the next HTTP request cannot outlive it.
"""

from __future__ import annotations

import math
import ssl
import time
from typing import Any

import requests
from winrm import transport as winrm_transport
from winrm.exceptions import WinRMError
from winrm.protocol import Protocol

from hvmem.errors import ErrorKind, HvmemError
from hvmem.hyperv.connect import HostTarget, normalise_fingerprint
from hvmem.hyperv.winrm_errors import timeout_error

# Auth methods that need one of pywinrm's optional extras, with the extra's name.
_EXTRAS = {"kerberos": "HAVE_KERBEROS", "credssp": "HAVE_CREDSSP"}


class Deadline:
    """A point in time a call must finish by."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def remaining(self) -> float:
        return self._end - time.monotonic()


class _TrustAdapter(requests.adapters.HTTPAdapter):
    """How an https host's certificate is trusted when no CA file is chosen.

    With a pinned fingerprint, urllib3 compares the certificate's SHA-256 with it. Without
    one, the operating system's store is trusted (on Windows, where a domain's CA usually
    lives), on top of requests' own bundle.
    """

    def __init__(self, fingerprint: str | None) -> None:
        self._fingerprint = fingerprint
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        if self._fingerprint:
            kwargs["assert_fingerprint"] = self._fingerprint
        else:
            kwargs["ssl_context"] = ssl.create_default_context()
        super().init_poolmanager(*args, **kwargs)


def check_extras(target: HostTarget) -> None:
    """Refuse Kerberos or CredSSP when pywinrm's extra for it is not installed.

    Raises:
        HvmemError: kind CONFIG, naming the package to install.
    """
    flag = _EXTRAS.get(target.auth)
    if flag is None or getattr(winrm_transport, flag, False):
        return
    raise HvmemError(
        ErrorKind.CONFIG,
        f"{target.auth.capitalize()} authentication needs an optional part of hvmem "
        f"that is not installed", host=target.host,
        details=f"pywinrm reports {flag} = False",
        hint=f"Install it with: pip install 'hvmem[{target.auth}]' (Kerberos also needs "
             f"the system's Kerberos libraries and a ticket: kinit).")


def build_protocol(target: HostTarget) -> Protocol:
    """pywinrm's `Protocol` for `target`, with no proxy or CA taken from the environment.

    Raises:
        HvmemError: kind CONFIG when pywinrm refuses the settings or lacks an extra.
    """
    target.check()
    check_extras(target)
    try:
        protocol = Protocol(
            endpoint=target.url,
            transport=target.auth,
            username=target.user or None,
            password=target.password,
            ca_trust_path=target.ca_trust_path,  # type: ignore[arg-type]
            cert_pem=target.cert_pem,
            cert_key_pem=target.cert_key_pem,
            server_cert_validation=("validate" if target.verify_tls
                                    and not target.cert_fingerprint else "ignore"),
            read_timeout_sec=target.read_timeout_s,
            operation_timeout_sec=target.operation_timeout_s,
            proxy=target.proxy,
        )
    except (WinRMError, ValueError) as exc:
        raise HvmemError(ErrorKind.CONFIG, f"pywinrm refused the settings for "
                         f"{target.host}", details=str(exc), host=target.host,
                         hint="Check the authentication method and certificate files; "
                              "Kerberos and CredSSP need pywinrm's extras.") from exc
    # Only for https: over http, building the session may already send a request.
    if target.uses_tls and target.cert_fingerprint:
        session = protocol.transport.build_session()
        session.mount("https://", _TrustAdapter(
            normalise_fingerprint(target.cert_fingerprint)))
        session.verify = False
    elif target.uses_tls and target.verify_tls and target.ca_trust_path is None:
        protocol.transport.build_session().mount("https://", _TrustAdapter(None))
    return protocol


def fit_to_deadline(protocol: Protocol, target: HostTarget, deadline: Deadline,
                    cap_s: float | None = None) -> None:
    """Fit the next HTTP request inside the deadline, or fail with TIMEOUT.

    Args:
        cap_s: hold the request for at most this long even if the deadline is later
            (a probe that must look again soon).

    Raises:
        HvmemError: kind TIMEOUT when the deadline has passed.
    """
    remaining = deadline.remaining()
    if remaining <= 0:
        raise timeout_error(target.host, deadline.seconds,
                            f"no answer from the agent within {deadline.seconds:g} s")
    if cap_s is not None:
        remaining = min(remaining, max(cap_s, 0.0))
    operation = max(1, min(target.operation_timeout_s, int(remaining)))
    read = min(target.read_timeout_s, max(operation + 1, math.ceil(remaining)))
    protocol.operation_timeout_sec = operation
    protocol.transport.read_timeout_sec = read
