"""Every failure hvmem reports, as one exception type with a kind, a summary and details.

The summary is one line a person understands; `details` carries the host's own text and ids
verbatim; `hint` says what to try. Host errors are classified by their error id and HRESULT,
never by their (possibly localised) text.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum

from hvmem.hyperv.protocol import ErrorRecord


class ErrorKind(str, Enum):
    """What went wrong, in a word that code may switch on."""

    AUTH = "auth"  # credentials refused (HTTP 401)
    ACCESS_DENIED = "access_denied"  # authenticated, but not allowed
    NO_RIGHTS = "no_rights"  # the account is not in Hyper-V Administrators
    TLS = "tls"  # the host's certificate is not trusted
    UNREACHABLE = "unreachable"
    TIMEOUT = "timeout"
    WSMAN_FAULT = "wsman_fault"
    QUOTA = "quota"  # shell or process quota on the host
    AGENT = "agent"  # the agent answered garbage, or could not start
    HOST = "host"  # Hyper-V refused or failed; records carry its error records
    CONFLICT = "conflict"  # the VM changed since the client last saw it
    NOT_FOUND = "not_found"  # the VM no longer exists
    REJECTED = "rejected"  # refused before sending, by a rule
    CONFIG = "config"  # bad settings or input on our side
    INTERNAL = "internal"


class HostErrorClass(str, Enum):
    """Hyper-V's own failure classes, derived from error ids and HRESULTs."""

    OUT_OF_MEMORY = "out_of_memory"
    INVALID_STATE = "invalid_state"
    INVALID_PARAMETER = "invalid_parameter"
    ACCESS_DENIED = "access_denied"
    NOT_FOUND = "not_found"
    NOT_SUPPORTED = "not_supported"
    OTHER = "other"


# The first part of a FullyQualifiedErrorId, before the comma, names Hyper-V's error id.
_ID_CLASSES = {
    "OutOfMemory": HostErrorClass.OUT_OF_MEMORY,
    "InvalidState": HostErrorClass.INVALID_STATE,
    "InvalidParameter": HostErrorClass.INVALID_PARAMETER,
    "ParameterArgumentValidationError": HostErrorClass.INVALID_PARAMETER,
    "AccessDenied": HostErrorClass.ACCESS_DENIED,
    "ObjectNotFound": HostErrorClass.NOT_FOUND,
    "NotSupported": HostErrorClass.NOT_SUPPORTED,
}
_HRESULT_CLASSES = {
    0x8007000E: HostErrorClass.OUT_OF_MEMORY,  # E_OUTOFMEMORY
    0x800705AA: HostErrorClass.OUT_OF_MEMORY,  # ERROR_NO_SYSTEM_RESOURCES
    0x80070005: HostErrorClass.ACCESS_DENIED,
}


def classify_record(record: ErrorRecord) -> HostErrorClass:
    """Hyper-V's failure class of one error record, from its id or HRESULT only."""
    head = record.error_id.split(",", 1)[0].strip()
    if head in _ID_CLASSES:
        return _ID_CLASSES[head]
    if record.hresult is not None:
        return _HRESULT_CLASSES.get(record.hresult & 0xFFFFFFFF, HostErrorClass.OTHER)
    return HostErrorClass.OTHER


def format_records(records: Iterable[ErrorRecord]) -> str:
    """The host's records verbatim, with their ids, for a Details area or a log."""
    parts = []
    for record in records:
        lines = [record.message.strip()]
        if record.error_id:
            lines.append(f"FullyQualifiedErrorId: {record.error_id}")
        if record.category:
            lines.append(f"Category: {record.category}")
        if record.hresult is not None:
            lines.append(f"HRESULT: 0x{record.hresult & 0xFFFFFFFF:08X}")
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


class HvmemError(Exception):
    """A failure to show a person: a summary, the host's details and a hint.

    Attributes:
        kind: what went wrong (`ErrorKind`).
        summary: one line a person understands.
        details: the host's own text and ids, verbatim; may be empty.
        hint: what to try; may be empty.
        host: the host it happened on, if any.
        records: Hyper-V's error records, for kind HOST.
        cert_fingerprint: for kind TLS, the SHA-256 fingerprint of the certificate the
            host presented, upper-case hex pairs joined by colons; "" when unknown.
    """

    def __init__(
        self,
        kind: ErrorKind,
        summary: str,
        details: str = "",
        hint: str = "",
        host: str | None = None,
        records: Iterable[ErrorRecord] = (),
        cert_fingerprint: str = "",
    ) -> None:
        super().__init__(summary)
        self.kind = kind
        self.summary = summary
        self.details = details
        self.hint = hint
        self.host = host
        self.records = tuple(records)
        self.cert_fingerprint = cert_fingerprint

    def headline(self) -> str:
        """The summary, with the host in front unless the summary names it already."""
        # Most transport summaries do ("hv01 did not answer within 30 s").
        named = not self.host or self.host.lower() in self.summary.lower()
        return self.summary if named else f"{self.host}: {self.summary}"

    def full_text(self) -> str:
        """Headline, the host's details and the hint, each once, for a tooltip or a log."""
        return "\n\n".join(p for p in (self.headline(), self.details, self.hint) if p)

    def __str__(self) -> str:
        text = self.headline()
        return f"{text} ({self.hint})" if self.hint else text
