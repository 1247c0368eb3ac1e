"""The agent protocol: one JSON request per line in, one marked JSON answer per line out.

A request is ``{"id": N, "op": NAME, "args": {...}}``. An answer is a line that starts with
`MARKER` followed by ``{"id": N, "ok": true, "result": ...}`` or
``{"id": N, "ok": false, "error": {"kind", "message", "error_id", "category", "hresult"}}``.
Anything else the host prints (a profile banner, a stray warning) does not start with the
marker and is ignored, so success never depends on stderr or an exit code.

The protocol knows nothing of its transport: the same lines travel over a WinRM shell's
stdin and stdout, over a local process's pipes, or straight into the simulator in-process.

Wire records (memory always in bytes, as 64-bit integers, as Hyper-V reports it):

* host: ``name, total_bytes, available_bytes, locale``
* vm: ``id, name, state, state_value, status, generation, version, uptime_s, cpu_percent,
  dynamic_memory, startup_bytes, minimum_bytes, maximum_bytes, buffer_percent, weight,
  assigned_bytes, demand_bytes, memory_status, nested_virtualization, gpu_partition``

Operations:

* ``hello`` -> ``{agent_version, protocol, host_name, ps_version, os_version, simulated,
  is_admin, hyperv_admin}``
* ``list`` -> ``{host: host, vms: [vm, ...]}``
* ``get_vm {vm_id}`` -> ``{host: host, vm: vm}``
* ``set_memory {vm_id, changes, expected}`` -> ``{vm: vm}``. ``changes`` holds only what
  changes, by wire name (``startup_bytes, dynamic_memory, minimum_bytes, maximum_bytes,
  buffer_percent, weight``); ``expected`` holds ``state`` and all six settings as the client
  last saw them. Errors: ``conflict`` (with ``current``: vm), ``not_found``, ``host`` (the
  Hyper-V error records in ``records``, each ``{message, error_id, category, hresult}``,
  and the VM afterwards in ``vm``).
* ``start_vm``, ``stop_vm`` (graceful shut down), ``turn_off_vm``, ``save_vm``
  ``{vm_id, expected_state}`` -> ``{vm: vm}`` (the VM afterwards). ``expected_state`` is
  the state the client last saw; if the VM is in another one now, nothing is done and
  the answer is ``conflict`` (with ``current``: vm). Errors: ``not_found``, ``host``
  (the Hyper-V error records in ``records``, the VM afterwards in ``vm``); a start
  without enough free memory is Hyper-V's ``OutOfMemory,...StartVM`` record.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

PROTOCOL_VERSION = 1
MARKER = "<<hvmem1>>"
# Operations that change a VM's power state, by the Hyper-V cmdlet each one runs.
POWER_OPERATIONS = ("start_vm", "stop_vm", "turn_off_vm", "save_vm")
OPERATIONS = ("hello", "list", "get_vm", "set_memory", *POWER_OPERATIONS)

# Wire names of the memory settings, keyed by the field names of model.MemorySettings.
SETTING_WIRE_NAMES = {
    "startup_mb": "startup_bytes",
    "dynamic": "dynamic_memory",
    "minimum_mb": "minimum_bytes",
    "maximum_mb": "maximum_bytes",
    "buffer_percent": "buffer_percent",
    "weight": "weight",
}


class ProtocolError(Exception):
    """An answer that is not what the protocol promises (garbage from the agent)."""


@dataclass(frozen=True)
class ErrorRecord:
    """One PowerShell error record as the host gave it, text untouched."""

    message: str
    error_id: str = ""
    category: str = ""
    hresult: int | None = None

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> ErrorRecord:
        """One record; an HRESULT may come as a number or as its text ("0x8007000E").

        Raises:
            ProtocolError: the record is not an object.
        """
        if not isinstance(data, Mapping):
            raise ProtocolError(f"an error record is not an object: {data!r:.200}")
        return cls(
            message=str(data.get("message") or ""),
            error_id=str(data.get("error_id") or ""),
            category=str(data.get("category") or ""),
            hresult=_hresult(data.get("hresult")),
        )

    def to_wire(self) -> dict[str, Any]:
        return {
            "message": self.message,
            "error_id": self.error_id,
            "category": self.category,
            "hresult": self.hresult,
        }


def _hresult(value: Any) -> int | None:
    """An HRESULT as a number, signed or not, from a number or its decimal or hex text."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip(), 0)
        except ValueError:
            return None
    return None


@dataclass(frozen=True)
class AgentFailure:
    """The ``error`` part of a failed answer."""

    kind: str
    message: str
    error_id: str = ""
    category: str = ""
    hresult: int | None = None
    records: tuple[ErrorRecord, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> AgentFailure:
        if not isinstance(data, Mapping):
            raise ProtocolError(f"error is not an object: {data!r}")
        head = ErrorRecord.from_wire(data)
        listed = data.get("records") or ()
        if isinstance(listed, Mapping):  # 5.1 writes a one-element array as its element
            listed = (listed,)
        if not isinstance(listed, (list, tuple)):
            raise ProtocolError(f"error records are not a list: {listed!r:.200}")
        records = tuple(ErrorRecord.from_wire(r) for r in listed)
        known = {"kind", "message", "error_id", "category", "hresult", "records"}
        return cls(
            kind=str(data.get("kind") or "internal"),
            message=head.message,
            error_id=head.error_id,
            category=head.category,
            hresult=head.hresult,
            records=records or (head,),
            extra={k: v for k, v in data.items() if k not in known},
        )


def encode_request(request_id: int, op: str, args: Mapping[str, Any]) -> bytes:
    """One request line, UTF-8, ending in a newline. User values travel only as JSON data."""
    line = json.dumps({"id": request_id, "op": op, "args": dict(args)}, ensure_ascii=True)
    return (line + "\n").encode("utf-8")


def encode_answer(answer: Mapping[str, Any]) -> str:
    """One answer line as the agent prints it (without the newline)."""
    return MARKER + json.dumps(answer, ensure_ascii=True, separators=(",", ":"))


def ok_answer(request_id: Any, result: Any) -> dict[str, Any]:
    return {"id": request_id, "ok": True, "result": result}


def error_answer(
    request_id: Any, kind: str, message: str, **fields: Any
) -> dict[str, Any]:
    error = {"kind": kind, "message": message, "error_id": "", "category": "",
             "hresult": None}
    error.update(fields)
    return {"id": request_id, "ok": False, "error": error}


class LineDecoder:
    """Collects answers from a byte stream that may arrive in arbitrary pieces.

    Output is decoded as UTF-8 (a BOM in front is dropped); lines without the marker are
    kept in `stray` for the debug log and otherwise ignored.
    """

    def __init__(self) -> None:
        self._buffer = b""
        self._first = True
        self.stray: list[str] = []

    def feed(self, data: bytes) -> list[dict[str, Any]]:
        """Add bytes; return every complete answer they finish."""
        self._buffer += data
        if self._first and len(self._buffer) >= 3:
            self._buffer = self._buffer.removeprefix(b"\xef\xbb\xbf")
            self._first = False
        *lines, self._buffer = self._buffer.split(b"\n")
        answers = []
        for raw in lines:
            text = raw.decode("utf-8", errors="replace").strip("\r\ufeff")
            start = text.find(MARKER)
            if start < 0:
                if text.strip():
                    self.stray.append(text)
                continue
            answers.append(parse_answer(text[start + len(MARKER):]))
        return answers


def answers_request(answer: Mapping[str, Any], request_id: int) -> bool:
    """Whether `answer` is the answer to request `request_id`.

    It is when it names that id, and also when it is a failure that names no request:
    the agent could not read the request's id (or failed while answering) and says so
    with id null. It answers one request at a time, so such a failure can only be for
    the request in flight, and its text must reach the user, not a timeout.
    """
    answer_id = answer.get("id")
    if isinstance(answer_id, bool):
        return False
    if answer_id == request_id:
        return True
    return answer_id is None and answer.get("ok") is not True


def parse_answer(text: str) -> dict[str, Any]:
    """One answer's JSON, checked for the shape the protocol promises."""
    try:
        answer = json.loads(text)
    except ValueError as exc:
        raise ProtocolError(f"answer is not JSON ({exc}): {text[:200]!r}") from exc
    if not isinstance(answer, dict) or "id" not in answer or "ok" not in answer:
        raise ProtocolError(f"answer lacks id or ok: {text[:200]!r}")
    if answer["ok"] is not True and not isinstance(answer.get("error"), dict):
        raise ProtocolError(f"failed answer without an error object: {text[:200]!r}")
    return answer
