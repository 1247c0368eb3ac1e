"""`HostClient`: the typed face of one host's agent, over any `Channel`.

It turns wire records into `hvmem.model` objects and failed answers into `HvmemError`s,
and it serialises callers, since one agent process answers one request at a time.

Reads (hello, list, get_vm) reconnect by themselves: after a transport failure that a
new connection may cure (a dead shell, a restarted host, a dropped connection) they are
asked once more. A write (set_memory) is never asked twice; the controller reads the VM
back instead. An empty list from an account outside Hyper-V Administrators is not taken
for "no VMs": it is a NO_RIGHTS error.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from hvmem.errors import ErrorKind, HvmemError, format_records
from hvmem.hyperv import wire
from hvmem.hyperv.channel import Channel
from hvmem.hyperv.protocol import (
    SETTING_WIRE_NAMES,
    AgentFailure,
    ProtocolError,
)
from hvmem.model import (
    HelloInfo,
    HostSnapshot,
    Inventory,
    MemoryChange,
    MemorySettings,
    VmSnapshot,
    bytes_to_mb,
    mb_to_bytes,
)

log = logging.getLogger("hvmem.host")
T = TypeVar("T")

_AGENT_KINDS = {"not_found": ErrorKind.NOT_FOUND, "no_rights": ErrorKind.NO_RIGHTS,
                "access_denied": ErrorKind.ACCESS_DENIED}
_AGENT_HINTS = {
    ErrorKind.NO_RIGHTS: "Add the account to the host's Hyper-V Administrators group "
                         "(then sign in again), or connect as an administrator of the "
                         "host.",
    ErrorKind.ACCESS_DENIED: "Connect as an administrator of the host or a member of "
                             "Hyper-V Administrators.",
    ErrorKind.NOT_FOUND: "The VM may have been deleted or renamed; refresh the list.",
}
READ_OPS = frozenset({"hello", "list", "get_vm"})
# Transport failures a fresh connection may cure. Not TIMEOUT (a hung host would only
# hang again, doubling the wait), nor AUTH, TLS, ACCESS_DENIED or QUOTA.
RECONNECT_KINDS = frozenset({ErrorKind.UNREACHABLE, ErrorKind.WSMAN_FAULT,
                             ErrorKind.AGENT})


@dataclass(frozen=True)
class Timeouts:
    """Deadlines, in seconds, for each kind of call; a hung host freezes nothing."""

    read: float = 60.0
    write: float = 120.0


class ConflictError(HvmemError):
    """The VM's settings or state changed since the client last saw them."""

    def __init__(self, summary: str, current: VmSnapshot | None, host: str | None) -> None:
        super().__init__(ErrorKind.CONFLICT, summary, host=host,
                         hint="Look at the VM's current values and try again.")
        self.current = current


class HostOperationError(HvmemError):
    """Hyper-V refused or failed part of an operation; `vm_after` is what it left."""

    def __init__(self, failure: AgentFailure, vm_after: VmSnapshot | None,
                 host: str | None) -> None:
        super().__init__(
            ErrorKind.HOST,
            failure.message.strip().splitlines()[0] if failure.message.strip()
            else "Hyper-V reported an error",
            details=format_records(failure.records),
            host=host,
            records=failure.records,
        )
        self.vm_after = vm_after


def host_from_wire(data: Any) -> HostSnapshot:
    """The host record, checked field by field.

    Raises:
        ProtocolError: a field is missing or of the wrong type, named in the message.
    """
    return HostSnapshot(
        name=wire.text(data, "name", "host"),
        total_mb=bytes_to_mb(wire.whole(data, "total_bytes", "host")),
        available_mb=bytes_to_mb(wire.whole(data, "available_bytes", "host")),
        locale=wire.text(data, "locale", "host", optional=True),
    )


def vm_from_wire(data: Any) -> VmSnapshot:
    """One VM record, checked field by field; a state that arrives as a number is named
    only when Hyper-V's name for it is stable, else kept visible as "State N".

    Raises:
        ProtocolError: a field is missing or of the wrong type, named in the message.
    """
    what = "vm"
    if isinstance(data, Mapping) and isinstance(data.get("name"), str):
        what = f"vm {data['name']!r}"
    memory = MemorySettings(
        startup_mb=bytes_to_mb(wire.whole(data, "startup_bytes", what)),
        dynamic=wire.flag(data, "dynamic_memory", what),
        minimum_mb=bytes_to_mb(wire.whole(data, "minimum_bytes", what)),
        maximum_mb=bytes_to_mb(wire.whole(data, "maximum_bytes", what)),
        # Any Int32: a value out of Hyper-V's range is shown, and the rules refuse it.
        buffer_percent=wire.whole(data, "buffer_percent", what,
                                  minimum=wire.INT32_MIN, maximum=wire.INT32_MAX),
        weight=wire.whole(data, "weight", what, minimum=wire.INT32_MIN,
                          maximum=wire.INT32_MAX),
    )
    return VmSnapshot(
        id=wire.vm_id(data, what),
        name=wire.text(data, "name", what),
        state=wire.state_name(data, what),
        generation=wire.whole(data, "generation", what, optional=True),
        version=wire.text(data, "version", what, optional=True),
        memory=memory,
        assigned_mb=bytes_to_mb(wire.whole(data, "assigned_bytes", what, optional=True)),
        demand_mb=bytes_to_mb(wire.whole(data, "demand_bytes", what, optional=True)),
        memory_status=wire.text(data, "memory_status", what, optional=True),
        cpu_percent=wire.whole(data, "cpu_percent", what, optional=True),
        uptime_s=wire.seconds(data, "uptime_s", what),
        status=wire.text(data, "status", what, optional=True),
        nested_virtualization=wire.flag(data, "nested_virtualization", what,
                                        optional=True),
        gpu_partition=wire.flag(data, "gpu_partition", what, optional=True),
    )


def settings_to_wire(settings: MemorySettings) -> dict[str, Any]:
    return change_to_wire(MemoryChange(**{
        name: getattr(settings, name) for name in SETTING_WIRE_NAMES
    }))


def change_to_wire(change: MemoryChange) -> dict[str, Any]:
    wire: dict[str, Any] = {}
    for name, value in change.as_dict().items():
        key = SETTING_WIRE_NAMES[name]
        wire[key] = mb_to_bytes(value) if key.endswith("_bytes") else value
    return wire


class HostClient:
    """One host's agent, typed. Thread-safe: calls are serialised.

    Args:
        channel: the transport.
        name: the host's name, for messages.
        timeouts: deadlines per kind of call.
        retry_reads: ask a read once more after a failure a reconnect may cure.
    """

    def __init__(self, channel: Channel, name: str, timeouts: Timeouts | None = None,
                 retry_reads: bool = True) -> None:
        self.channel = channel
        self.name = name
        self.timeouts = timeouts or Timeouts()
        self.retry_reads = retry_reads
        self.last_hello: HelloInfo | None = None
        self._lock = threading.Lock()

    def hello(self) -> HelloInfo:
        result = self._call("hello", {}, self.timeouts.read)
        self.last_hello = self._parse("hello", lambda: HelloInfo(
            agent_version=wire.text(result, "agent_version", "hello", optional=True),
            protocol=wire.whole(result, "protocol", "hello", optional=True),
            host_name=wire.text(result, "host_name", "hello", optional=True),
            ps_version=wire.text(result, "ps_version", "hello", optional=True),
            os_version=wire.text(result, "os_version", "hello", optional=True),
            simulated=wire.flag(result, "simulated", "hello", optional=True),
            is_admin=wire.flag(result, "is_admin", "hello", optional=True),
            hyperv_admin=wire.flag(result, "hyperv_admin", "hello", optional=True),
        ))
        return self.last_hello

    def list(self) -> Inventory:
        """The host and its VMs.

        Raises:
            HvmemError: kind NO_RIGHTS when the list is empty and the account is not in
                Hyper-V Administrators (Hyper-V then hides every VM without an error).
        """
        result = self._call("list", {}, self.timeouts.read)
        inventory = self._parse("list", lambda: Inventory(
            host=host_from_wire(result.get("host")),
            vms=tuple(vm_from_wire(vm) for vm in wire.records(result.get("vms"), "vms")),
        ))
        if not inventory.vms:
            self._check_rights()
        return inventory

    def get_vm(self, vm_id: str) -> tuple[HostSnapshot, VmSnapshot]:
        result = self._call("get_vm", {"vm_id": vm_id}, self.timeouts.read)
        return self._parse("get_vm", lambda: (
            host_from_wire(result.get("host")),
            vm_from_wire(result.get("vm")),
        ))

    def set_memory(self, vm: VmSnapshot, change: MemoryChange) -> VmSnapshot:
        """Apply `change` to `vm` in one call, guarded by what the client last saw.

        Raises:
            ConflictError: the VM changed meanwhile; nothing was sent to Hyper-V.
            HostOperationError: Hyper-V refused or applied only part of it.
            HvmemError: anything else (transport, not found, garbage).
        """
        expected = settings_to_wire(vm.memory)
        expected["state"] = vm.state
        args = {"vm_id": vm.id, "changes": change_to_wire(change), "expected": expected}
        result = self._call("set_memory", args, self.timeouts.write)
        return self._parse("set_memory", lambda: vm_from_wire(result.get("vm")))

    def close(self) -> None:
        self.channel.close()

    def _check_rights(self) -> None:
        hello = self.last_hello or self.hello()
        if hello.hyperv_admin:
            return
        raise HvmemError(
            ErrorKind.NO_RIGHTS,
            "This account sees no virtual machines: it is not a Hyper-V administrator",
            details=f"The host reported hyperv_admin = false and is_admin = "
                    f"{str(hello.is_admin).lower()} for this account, and Get-VM "
                    f"returned nothing. Hyper-V hides VMs from other accounts without an "
                    f"error.", host=self.name,
            hint=_AGENT_HINTS[ErrorKind.NO_RIGHTS])

    def _call(self, op: str, args: Mapping[str, Any], timeout: float) -> dict[str, Any]:
        with self._lock:
            log.debug("%s: %s %s", self.name, op, args)
            try:
                answer = self._ask(op, args, timeout)
            except ProtocolError as exc:
                raise self._garbage(str(exc)) from exc
        if answer.get("ok") is True:
            result = answer.get("result")
            if not isinstance(result, dict):
                raise self._garbage(f"{op} answer has no result object")
            return result
        raise self._parse(op, lambda: self._failure(
            AgentFailure.from_wire(answer.get("error") or {})))

    def _ask(self, op: str, args: Mapping[str, Any], timeout: float) -> dict[str, Any]:
        """One call on the channel; a read is asked once more after a curable failure."""
        try:
            return self.channel.call(op, args, timeout)
        except HvmemError as exc:
            if not (self.retry_reads and op in READ_OPS
                    and exc.kind in RECONNECT_KINDS):
                raise
            log.warning("%s: %s failed (%s); reconnecting once", self.name, op, exc)
        return self.channel.call(op, args, timeout)

    def _failure(self, failure: AgentFailure) -> HvmemError:
        vm, unreadable = self._vm_after(failure)
        error: HvmemError
        if failure.kind == "conflict":
            error = ConflictError(failure.message or "The VM changed since it was read",
                                  vm, self.name)
        elif failure.kind == "host":
            error = HostOperationError(failure, vm, self.name)
        else:
            kind = _AGENT_KINDS.get(failure.kind, ErrorKind.AGENT)
            error = HvmemError(
                kind,
                failure.message or f"the agent failed ({failure.kind})",
                details=format_records(failure.records),
                hint=_AGENT_HINTS.get(kind, "The host's own text is under Details."),
                host=self.name,
                records=failure.records,
            )
        if unreadable:
            # The host's own error matters most; the broken record is said, not hidden.
            error.details = (f"{error.details}\n\n" if error.details else "") + (
                f"The VM record sent with this error was unreadable: {unreadable}")
        return error

    def _vm_after(self, failure: AgentFailure) -> tuple[VmSnapshot | None, str]:
        """The VM record a failed answer carries, or None and why it could not be read."""
        vm_data = failure.extra.get("vm") or failure.extra.get("current")
        if vm_data is None:
            return None, ""
        try:
            return vm_from_wire(vm_data), ""
        except ProtocolError as exc:
            log.warning("%s: unreadable VM record in a failed answer: %s", self.name, exc)
            return None, str(exc)

    def _parse(self, op: str, read: Callable[[], T]) -> T:
        """`read` an answer's records; one that breaks the protocol is an AGENT error
        naming the operation, the field and the value."""
        try:
            return read()
        except ProtocolError as exc:
            raise self._garbage(f"{op} answer: {exc}") from exc

    def _garbage(self, text: str) -> HvmemError:
        return HvmemError(
            ErrorKind.AGENT,
            "The host's agent answered something hvmem does not understand",
            details=text,
            hint="Check the host's PowerShell profile and Hyper-V module; see the log.",
            host=self.name,
        )

    # Power actions. Writes: never asked twice; a caller that loses the connection reads
    # the VM back instead (hvmem.power does).

    def start_vm(self, vm: VmSnapshot) -> VmSnapshot:
        """Start `vm` (Start-VM); a saved VM is restored, a paused one resumed.

        Raises:
            ConflictError: the VM is no longer in `vm.state`; nothing was done.
            HostOperationError: Hyper-V refused, e.g. OutOfMemory when the host lacks
                the memory to start it; `vm_after` is the VM as it is now.
            HvmemError: anything else (transport, not found, garbage).
        """
        return self._power("start_vm", vm)

    def stop_vm(self, vm: VmSnapshot) -> VmSnapshot:
        """Shut `vm` down through its guest (Stop-VM -Force). Raises as `start_vm`."""
        return self._power("stop_vm", vm)

    def turn_off_vm(self, vm: VmSnapshot) -> VmSnapshot:
        """Turn `vm` off at once (Stop-VM -TurnOff). Raises as `start_vm`."""
        return self._power("turn_off_vm", vm)

    def save_vm(self, vm: VmSnapshot) -> VmSnapshot:
        """Save `vm`'s state and release its memory (Save-VM). Raises as `start_vm`."""
        return self._power("save_vm", vm)

    def _power(self, op: str, vm: VmSnapshot) -> VmSnapshot:
        args = {"vm_id": vm.id, "expected_state": vm.state}
        result = self._call(op, args, self.timeouts.write)
        return self._parse(op, lambda: vm_from_wire(result.get("vm")))
