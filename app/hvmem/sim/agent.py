"""The agent protocol answered from Python, against a `SimHost` (`hvmem sim agent`).

`SimAgent` speaks exactly what resources/agent/hvmem-agent.ps1 speaks on a real host (see
hvmem.hyperv.protocol): one JSON request line in, one marked answer line out. It never
raises on input: a line that is not a request gets a ``bad_request`` answer.
"""

from __future__ import annotations

import json
import logging
import platform
from collections.abc import Mapping
from typing import Any, TextIO

from hvmem import __version__
from hvmem.hyperv.protocol import (
    POWER_OPERATIONS,
    PROTOCOL_VERSION,
    SETTING_WIRE_NAMES,
    encode_answer,
    error_answer,
    ok_answer,
)
from hvmem.model import bytes_to_mb
from hvmem.sim.host import PowerOutcome, SetOutcome, SimHost, SimVm, VmNotFound
from hvmem.sim.records import (
    E_ACCESSDENIED,
    GET_VM,
    power_state_record,
    refusal_records,
    shortfall_record,
    start_memory_record,
)

log = logging.getLogger("hvmem.sim")

INT64_MAX = 2**63 - 1
INT32_RANGE = (-(2**31), 2**31 - 1)
WIRE_TO_FIELD = {wire: name for name, wire in SETTING_WIRE_NAMES.items()}
EXPECTED_KEYS = ("state", *SETTING_WIRE_NAMES.values())
_POWER_CMDLET_NAMES = {"start_vm": "Start-VM", "stop_vm": "Stop-VM",
                       "turn_off_vm": "Stop-VM", "save_vm": "Save-VM"}


class BadRequest(ValueError):
    """A request the agent cannot act on; the message says which part is wrong."""


class SimAgent:
    """Answers agent requests from a simulated host."""

    def __init__(self, host: SimHost, *, hyperv_admin: bool = True) -> None:
        self.host = host
        self.hyperv_admin = hyperv_admin

    def handle_line(self, line: str) -> str:
        """One request line -> one answer line (marker first, no newline)."""
        try:
            # A UTF-8 BOM may lead the first line a Windows pipe delivers.
            request = json.loads(line.lstrip("\ufeff"))
        except ValueError as exc:
            return encode_answer(error_answer(None, "bad_request",
                                              f"request is not JSON: {exc}"))
        return encode_answer(self.handle(request))

    def handle(self, request: Any) -> dict[str, Any]:
        """One request (parsed) -> one answer dict."""
        request_id = request.get("id") if isinstance(request, dict) else None
        try:
            self.host.catch_up()
            op, args = _split_request(request)
            log.debug("sim agent: %s %s", op, args)
            return ok_answer(request_id, self._dispatch(op, args))
        except BadRequest as exc:
            return error_answer(request_id, "bad_request", str(exc))
        except _Refused as refused:
            return {"id": request_id, "ok": False, "error": refused.error}
        except Exception as exc:  # a simulator bug must still answer, never hang a client
            log.exception("sim agent failed on %r", request)
            return error_answer(request_id, "internal", f"simulator error: {exc!r}")

    def _dispatch(self, op: str, args: Mapping[str, Any]) -> dict[str, Any]:
        if op == "hello":
            return self._hello()
        self._require_rights(op)
        if op == "list":
            return self.host.list_records()
        if op == "get_vm":
            with self.host.lock:
                vm = self._find(_string_arg(args, "vm_id"), "Get-VM")
                return {"host": self.host.host_record(), "vm": self.host.vm_record(vm)}
        if op == "set_memory":
            return self._set_memory(args)
        if op in POWER_OPERATIONS:
            return self._power(op, args)
        raise BadRequest(f"unknown op {op!r}")

    def _hello(self) -> dict[str, Any]:
        return {
            "agent_version": f"{__version__}-sim",
            "protocol": PROTOCOL_VERSION,
            "host_name": self.host.name,
            "ps_version": "5.1.20348.2849 (simulated)",
            "os_version": "10.0.22631 (simulated on "
            f"{platform.system() or 'unknown'})",
            "simulated": True,
            "is_admin": self.hyperv_admin,
            "hyperv_admin": self.hyperv_admin,
        }

    def _set_memory(self, args: Mapping[str, Any]) -> dict[str, Any]:
        vm_id = _string_arg(args, "vm_id")
        given = parse_changes(args.get("changes"))
        expected = parse_expected(args.get("expected"))
        with self.host.lock:
            vm = self._find(vm_id, "Set-VMMemory")
            current = self.host.vm_record(vm)
            moved = [key for key in EXPECTED_KEYS if current[key] != expected[key]]
            if moved:
                raise _Refused(self._conflict(vm, moved, current))
            outcome = self.host.set_memory(vm.id, given)
        if outcome.ok:
            return {"vm": outcome.vm}
        raise _Refused(self._host_error(vm, outcome))

    def _power(self, op: str, args: Mapping[str, Any]) -> dict[str, Any]:
        """Start, shut down, turn off or save a VM if it is in the state the client saw."""
        vm_id = _string_arg(args, "vm_id")
        expected_state = _string_arg(args, "expected_state")
        with self.host.lock:
            vm = self._find(vm_id, _POWER_CMDLET_NAMES[op])
            current = self.host.vm_record(vm)
            if current["state"] != expected_state:
                raise _Refused(self._conflict(vm, ["state"], current))
            outcome = self.host.power(vm.id, op)
        if outcome.ok:
            return {"vm": outcome.vm}
        raise _Refused(self._power_error(op, vm, outcome))

    def _power_error(self, op: str, vm: SimVm, outcome: PowerOutcome) -> dict[str, Any]:
        texts = self.host.texts
        if outcome.needed_mb:
            record = start_memory_record(texts, vm.name, vm.id, outcome.needed_mb)
        else:
            record = power_state_record(texts, op, vm.name, vm.id, outcome.wrong_state)
        return error_answer(
            None, "host", record["message"], error_id=record["error_id"],
            category=record["category"], hresult=record["hresult"], rule=record["rule"],
            rules=[record["rule"]], records=[record], vm=outcome.vm)["error"]

    def _conflict(self, vm: SimVm, moved: list[str], current: dict[str, Any]
                  ) -> dict[str, Any]:
        message = (f"The VM '{vm.name}' changed since it was read "
                   f"({', '.join(moved)}); nothing was changed.")
        return error_answer(None, "conflict", message, current=current,
                            moved=moved)["error"]

    def _host_error(self, vm: SimVm, outcome: SetOutcome) -> dict[str, Any]:
        texts = self.host.texts
        if outcome.refusals:
            records = refusal_records(texts, vm.name, vm.id, vm.version,
                                      outcome.refusals)
        else:
            assert outcome.shortfall is not None
            records = [shortfall_record(texts, vm.name, vm.id, outcome.shortfall)]
        head = records[0]
        return error_answer(
            None, "host", head["message"], error_id=head["error_id"],
            category=head["category"], hresult=head["hresult"], rule=head["rule"],
            rules=[record["rule"] for record in records], records=records,
            vm=outcome.vm)["error"]

    def _find(self, vm_id: str, cmdlet: str) -> SimVm:
        try:
            return self.host.find(vm_id)
        except VmNotFound:
            message = self.host.texts.get("not_found", vm_id=vm_id)
            raise _Refused(error_answer(
                None, "not_found", message, error_id=f"InvalidParameter,{GET_VM}",
                category="InvalidArgument", cmdlet=cmdlet)["error"]) from None

    def _require_rights(self, op: str) -> None:
        if self.hyperv_admin:
            return
        message = self.host.texts.get("no_rights", host=self.host.name)
        raise _Refused(error_answer(
            None, "no_rights", message, error_id=f"AccessDenied,{GET_VM}",
            category="PermissionDenied", hresult=E_ACCESSDENIED, op=op)["error"])


class _Refused(Exception):
    """Carries a failed answer's error object out of the handlers."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error.get("message"))
        self.error = error


def _split_request(request: Any) -> tuple[str, Mapping[str, Any]]:
    if not isinstance(request, dict):
        raise BadRequest("request is not a JSON object")
    op = request.get("op")
    if not isinstance(op, str):
        raise BadRequest("request has no op")
    args = request.get("args", {})
    if not isinstance(args, dict):
        raise BadRequest("args is not an object")
    return op, args


def _string_arg(args: Mapping[str, Any], key: str) -> str:
    value = args.get(key)
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f"{key} is missing or not a string")
    return value


def parse_changes(changes: Any) -> dict[str, Any]:
    """Wire changes -> MemorySettings field values (MB, truncated like Set-VMMemory)."""
    if not isinstance(changes, dict):
        raise BadRequest("changes is missing or not an object")
    unknown = sorted(set(changes) - set(WIRE_TO_FIELD))
    if unknown:
        raise BadRequest(f"unknown changes: {', '.join(unknown)}")
    return {WIRE_TO_FIELD[key]: _setting_value(key, value)
            for key, value in changes.items()}


def parse_expected(expected: Any) -> dict[str, Any]:
    """The client's last view of the VM: state and all six settings, checked for type."""
    if not isinstance(expected, dict):
        raise BadRequest("expected is missing or not an object")
    missing = [key for key in EXPECTED_KEYS if key not in expected]
    if missing:
        raise BadRequest(f"expected lacks {', '.join(missing)}")
    if not isinstance(expected["state"], str):
        raise BadRequest("expected.state is not a string")
    for key in SETTING_WIRE_NAMES.values():
        _setting_value(key, expected[key])
    return dict(expected)


def _setting_value(key: str, value: Any) -> Any:
    if key == "dynamic_memory":
        if not isinstance(value, bool):
            raise BadRequest(f"{key}: {value!r} is not true or false")
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(f"{key}: {value!r} is not an integer")
    if key.endswith("_bytes"):
        if not 0 <= value <= INT64_MAX:
            raise BadRequest(f"{key}: {value} is not a byte count")
        return bytes_to_mb(value)
    if not INT32_RANGE[0] <= value <= INT32_RANGE[1]:
        raise BadRequest(f"{key}: {value} does not fit a 32-bit integer")
    return value


def run_stdio(agent: SimAgent, stdin: TextIO, stdout: TextIO) -> int:
    """Answer request lines from `stdin` until it ends; one flushed answer line each."""
    for line in stdin:
        if not line.strip():
            continue
        stdout.write(agent.handle_line(line) + "\n")
        stdout.flush()
    return 0
