"""Stand-in agent handlers and a test certificate for the WinRM tests (test_wsman_*,
test_winrm_*). The real simulator agent is used by the demo tests; these exercise the
transport on its own terms: answers that echo, never come, crash, or are garbage.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import threading
from pathlib import Path
from typing import Any

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


def target_for(url: str, password: str = PASSWORD, **fields: Any) -> HostTarget:
    values: dict[str, Any] = dict(url=url, auth="basic", user=USER, password=password,
                                  operation_timeout_s=2, read_timeout_s=10)
    values.update(fields)
    return HostTarget(**values)


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost: (cert.pem, key.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hvmem test host")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.DNSName("localhost")]),
            critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return cert_path, key_path


def fingerprint_of(cert_path: Path) -> str:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    return cert.fingerprint(hashes.SHA256()).hex()
