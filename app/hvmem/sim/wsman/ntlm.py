"""NTLM for the loopback WS-Management server: the handshake and MS-WSMV message sealing.

A real host binds NTLM to the TCP connection: the client's first request is answered
``401 Negotiate``, its NEGOTIATE token gets the CHALLENGE, and its AUTHENTICATE token
finishes the handshake on the same connection. Over HTTP every later SOAP body is sealed
in a ``multipart/encrypted`` body (MS-WSMV 2.2.9.1.1), answers and faults included.

pyspnego does the server side. It reads its accounts from the file named by the
environment variable ``NTLM_USER_FILE`` (lines of ``DOMAIN:USER:PASSWORD``, the domain
empty for local accounts); that variable is process-wide, so a process sets it once
(`write_user_file`).
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import struct
from pathlib import Path

import spnego
from spnego.exceptions import SpnegoError

USER_FILE_ENV = "NTLM_USER_FILE"
PROTOCOL = b"application/HTTP-SPNEGO-session-encrypted"
BOUNDARY = b"--Encrypted Boundary"
ENCRYPTED_TYPE = (f'multipart/encrypted;protocol="{PROTOCOL.decode()}";'
                  f'boundary="Encrypted Boundary"')
_LENGTH = re.compile(rb"Length=(\d+)")
_STREAM_HEADER = b"\tContent-Type: application/octet-stream\r\n"


class NtlmRefused(Exception):
    """A token that fails the handshake (a wrong password, a garbled token)."""


class SealError(Exception):
    """An encrypted body that does not open (bad framing, signature or length)."""


def write_user_file(path: Path, users: dict[str, str]) -> None:
    """Write pyspnego's account file and point `NTLM_USER_FILE` at it (process-wide).

    Args:
        users: ``user`` or ``DOMAIN\\user`` -> password.
    """
    lines = []
    for name, password in users.items():
        domain, _, user = name.rpartition("\\")
        lines.append(f"{domain}:{user}:{password}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.environ[USER_FILE_ENV] = str(path)


class NtlmConnection:
    """One TCP connection's NTLM state: the handshake, then sealing and unsealing."""

    def __init__(self) -> None:
        self._context: spnego.ContextProxy | None = None
        self.user: str | None = None

    @property
    def authenticated(self) -> bool:
        return self.user is not None

    def step(self, header: str) -> tuple[str, str | None]:
        """Take an ``Authorization: Negotiate|NTLM <token>`` header.

        Returns:
            (scheme, token to send back in a 401) while the handshake goes on, or
            (scheme, None) once it has completed and `user` is set.

        Raises:
            NtlmRefused: the token is refused; the handshake starts over.
        """
        scheme, _, text = header.strip().partition(" ")
        try:
            token = base64.b64decode(text.strip(), validate=True)
        except binascii.Error as exc:
            raise NtlmRefused(f"the {scheme} token is not base64") from exc
        if self._context is None or self._context.complete:
            self._context = spnego.server(protocol="ntlm")
            self.user = None
        try:
            answer = self._context.step(token)
        except SpnegoError as exc:
            self._context = None
            raise NtlmRefused(str(exc)) from exc
        if not self._context.complete:
            return scheme, base64.b64encode(answer or b"").decode("ascii")
        self.user = str(self._context.client_principal or "")
        return scheme, None

    def unseal(self, body: bytes) -> bytes:
        """The SOAP envelope inside a ``multipart/encrypted`` body."""
        if self._context is None or not self.authenticated:
            raise SealError("an encrypted body arrived before authentication")
        parts = [p for p in body.split(BOUNDARY + b"\r\n") if p]
        if len(parts) != 2:
            raise SealError(f"expected 2 MIME parts, found {len(parts)}")
        found = _LENGTH.search(parts[0])
        payload = parts[1].removesuffix(BOUNDARY + b"--\r\n")
        if found is None or not payload.startswith(_STREAM_HEADER):
            raise SealError("the MIME parts lack Length= or the octet-stream header")
        sealed = payload[len(_STREAM_HEADER):]
        (signature_length,) = struct.unpack("<i", sealed[:4])
        try:
            plain = self._context.unwrap(sealed[4:]).data
        except SpnegoError as exc:
            raise SealError(f"the message does not unseal: {exc}") from exc
        if len(plain) != int(found.group(1)) or signature_length != 16:
            raise SealError("the sealed length or signature size does not match")
        return plain

    def seal(self, body: bytes) -> bytes:
        """`body` (a SOAP envelope) sealed in a ``multipart/encrypted`` body."""
        assert self._context is not None
        wrapped = self._context.wrap(body, encrypt=True).data
        signature, sealed = wrapped[:16], wrapped[16:]
        return (
            BOUNDARY + b"\r\n"
            b"\tContent-Type: " + PROTOCOL + b"\r\n"
            b"\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length="
            + str(len(body)).encode("ascii") + b"\r\n"
            + BOUNDARY + b"\r\n" + _STREAM_HEADER
            + struct.pack("<i", len(signature)) + signature + sealed
            + BOUNDARY + b"--\r\n"
        )


def is_encrypted(content_type: str | None) -> bool:
    return PROTOCOL.decode() in (content_type or "")
