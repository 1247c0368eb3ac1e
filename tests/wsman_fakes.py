"""Stand-in agent handlers and a test PKI for the WinRM tests (test_wsman_*,
test_winrm_*). The real simulator agent is used by the demo tests; these exercise the
transport on its own terms: answers that echo, never come, crash, or are garbage. The
test CA comes from trustme.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import shutil
import ssl
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import trustme

from hvmem.hyperv.connect import HostTarget
from hvmem.hyperv.protocol import MARKER, encode_answer, ok_answer

USER, PASSWORD = "tester", "s3cret-pw"


class EchoHandler:
    """Answers every request with its op and args, after an optional stray line."""

    def __init__(self, stray: str = "") -> None:
        self.stray = stray
        self.lines: list[str] = []

    def handle_line(self, line: str) -> str:
        self.lines.append(line)
        request: dict[str, Any] = json.loads(line)
        answer = encode_answer(ok_answer(request["id"], {"op": request["op"],
                                                         "args": request["args"]}))
        return f"{self.stray}\r\n{answer}" if self.stray else answer


class HangingHandler:
    """Never answers until `release` is set (a hung Get-VM)."""

    def __init__(self, release: threading.Event) -> None:
        self.release = release

    def handle_line(self, line: str) -> str:
        self.release.wait()
        return encode_answer(ok_answer(json.loads(line)["id"], {}))


class CrashingHandler:
    def handle_line(self, line: str) -> str:
        raise RuntimeError("Get-VM : The Hyper-V module could not be loaded.")


class GarbageHandler:
    def handle_line(self, line: str) -> str:
        return MARKER + "{this is not json"


class NoRightsHandler:
    """An account outside Hyper-V Administrators on a real host: hello says so, and
    Get-VM quietly returns nothing."""

    def handle_line(self, line: str) -> str:
        request: dict[str, Any] = json.loads(line)
        if request["op"] == "hello":
            result: dict[str, Any] = {"host_name": "HV01", "protocol": 1,
                                      "is_admin": False, "hyperv_admin": False}
        else:
            result = {"host": {"name": "HV01", "total_bytes": 2**36,
                               "available_bytes": 2**35}, "vms": []}
        return encode_answer(ok_answer(request["id"], result))


def target_for(url: str, password: str = PASSWORD, **fields: Any) -> HostTarget:
    values: dict[str, Any] = dict(url=url, auth="basic", user=USER, password=password,
                                  operation_timeout_s=2, read_timeout_s=10)
    values.update(fields)
    return HostTarget(**values)


@dataclass(frozen=True)
class Pki:
    """A test CA (trustme) and a server certificate it issued for 127.0.0.1/localhost.

    Attributes:
        ca_file: the CA certificate, PEM (what a user would choose as "CA file").
        fingerprint: SHA-256 of the server certificate, lower-case hex (what a user
            would pin).
    """

    ca: trustme.CA
    server_cert: trustme.LeafCert
    ca_file: Path
    fingerprint: str

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.server_cert.configure_cert(context)
        return context


def make_pki(directory: Path) -> Pki:
    """A fresh test CA and server certificate, the CA written to `directory`."""
    ca = trustme.CA()
    server_cert = ca.issue_cert("127.0.0.1", "localhost")
    ca_file = directory / "test-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    leaf = ssl.PEM_cert_to_DER_cert(server_cert.cert_chain_pems[0].bytes().decode())
    return Pki(ca, server_cert, ca_file, hashlib.sha256(leaf).hexdigest())


def colon_fingerprint(hex_digest: str) -> str:
    """"ab12..." -> "AB:12:...", as hvmem shows a fingerprint."""
    upper = hex_digest.upper()
    return ":".join(upper[i:i + 2] for i in range(0, len(upper), 2))


NTLM_USERS = {USER: PASSWORD, "LAB\\alice": "alice-Pw-7"}
_ntlm_file: Path | None = None


def ntlm_user_file() -> Path:
    """pyspnego's account file for NTLM_USERS, written once per test process (the
    variable that names it is process-wide) and removed at exit."""
    global _ntlm_file
    if _ntlm_file is None:
        from hvmem.sim.wsman.ntlm import write_user_file

        directory = Path(tempfile.mkdtemp(prefix="hvmem-ntlm-"))
        _ntlm_file = directory / "ntlm-users.txt"
        write_user_file(_ntlm_file, NTLM_USERS)
        atexit.register(shutil.rmtree, directory, True)
    return _ntlm_file
