"""Error records the simulated host gives when it refuses a change or a power action.

Each record looks like a PowerShell error record from Set-VMMemory (message, a
FullyQualifiedErrorId, a category and an HRESULT where there is one) and carries in an
extra ``rule`` field the rule id that produced it, so tests and the client can tell
refusals apart without reading localised text. The ids and categories for refusals no
source captured (ordering, ranges, running-VM limits, partial resizes) are our best guess;
see docs/simulator.md.

Power actions (Start-VM, Stop-VM, Save-VM) fail with `start_memory_records` when the host
lacks memory to start a VM (Hyper-V's own OutOfMemory record, field case F20) and with
`power_state_record` when the VM's state does not allow the action.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hvmem.sim.messages import Texts
from hvmem.sim.rules import Refusal

SET_VM_MEMORY = "Microsoft.HyperV.PowerShell.Commands.SetVMMemory"
GET_VM = "Microsoft.HyperV.PowerShell.Commands.GetVM"
E_OUTOFMEMORY = 0x8007000E
E_ACCESSDENIED = 0x80070005

# rule id -> (Hyper-V error identifier, PowerShell category, HRESULT or None)
_RULE_IDS: dict[str, tuple[str, str, int | None]] = {
    "dm-required": ("InvalidParameter", "InvalidArgument", None),
    "align-2mb": ("InvalidParameter", "InvalidArgument", None),
    "min-32mb": ("InvalidParameter", "InvalidArgument", None),
    "max-bound": ("InvalidParameter", "InvalidArgument", None),
    "order-min-startup": ("InvalidParameter", "InvalidArgument", None),
    "order-startup-max": ("InvalidParameter", "InvalidArgument", None),
    "buffer-range": ("InvalidParameter", "InvalidArgument", None),
    "weight-range": ("InvalidParameter", "InvalidArgument", None),
    "gpu-startup-min": ("InvalidParameter", "InvalidArgument", None),
    "state-readonly": ("InvalidState", "InvalidOperation", None),
    "running-dm-toggle": ("InvalidState", "InvalidOperation", None),
    "running-dm-startup": ("InvalidState", "InvalidOperation", None),
    "running-dm-min-raise": ("InvalidState", "InvalidOperation", None),
    "running-dm-max-lower": ("InvalidState", "InvalidOperation", None),
    "runtime-resize-version": ("NotSupported", "InvalidOperation", None),
    "runtime-resize-nested": ("NotSupported", "InvalidOperation", None),
    "guest-no-hot-add": ("NotSupported", "InvalidOperation", None),
    "guest-no-hot-remove": ("NotSupported", "InvalidOperation", None),
    "host-free-memory": ("OutOfMemory", "FromStdErr", E_OUTOFMEMORY),
    "guest-in-use": ("OperationFailed", "NotSpecified", None),
}

# Refusals the cmdlet itself raises before asking the server: no job summary, no VM id.
_CMDLET_SIDE = frozenset({"dm-required"})


@dataclass(frozen=True)
class Shortfall:
    """A runtime resize the host applied only in part (or not at all)."""

    rule: str
    requested_mb: int
    achieved_mb: int


def error_record(rule: str, message: str) -> dict[str, Any]:
    """One wire error record for `rule`, with its id, category and HRESULT."""
    identifier, category, hresult = _RULE_IDS[rule]
    return {
        "message": message,
        "error_id": f"{identifier},{SET_VM_MEMORY}",
        "category": category,
        "hresult": hresult,
        "rule": rule,
    }


def _server_message(texts: Texts, vm_id: str, detail: str) -> str:
    suffix = texts.get("vm_id_suffix", vm_id=vm_id)
    lines = [f"{line} {suffix}" for line in detail.splitlines()]
    return "\n".join([texts.get("modify_failed"), *lines])


def refusal_records(
    texts: Texts, vm_name: str, vm_id: str, version: str, refusals: list[Refusal]
) -> list[dict[str, Any]]:
    """One error record per refusal, in the refusals' order."""
    records = []
    for refusal in refusals:
        detail = texts.get(refusal.rule, vm=vm_name, value=refusal.value,
                           limit=refusal.limit, version=version)
        message = detail if refusal.rule in _CMDLET_SIDE else (
            _server_message(texts, vm_id, detail))
        records.append(error_record(refusal.rule, message))
    return records


def shortfall_record(
    texts: Texts, vm_name: str, vm_id: str, shortfall: Shortfall
) -> dict[str, Any]:
    """The record of a resize that stopped short of what was asked."""
    detail = texts.get(shortfall.rule, vm=vm_name, requested=shortfall.requested_mb,
                       achieved=shortfall.achieved_mb)
    record = error_record(shortfall.rule, _server_message(texts, vm_id, detail))
    record["requested_bytes"] = shortfall.requested_mb * 1024 * 1024
    record["achieved_bytes"] = shortfall.achieved_mb * 1024 * 1024
    return record


# The cmdlet class that names each power action's errors (Stop-VM also turns off).
POWER_CMDLETS = {
    "start_vm": "Microsoft.HyperV.PowerShell.Commands.StartVM",
    "stop_vm": "Microsoft.HyperV.PowerShell.Commands.StopVM",
    "turn_off_vm": "Microsoft.HyperV.PowerShell.Commands.StopVM",
    "save_vm": "Microsoft.HyperV.PowerShell.Commands.SaveVM",
}


def start_memory_record(
    texts: Texts, vm_name: str, vm_id: str, needed_mb: int
) -> dict[str, Any]:
    """Start-VM's record when the host has too little free memory (reference §3.3).

    The message is the job summary (three lines, as captured in F20) followed by the
    server's detail lines, each ending in the VM's id, one of them naming the size.
    """
    summary = texts.get("start-failed", vm=vm_name)
    details = texts.get("start-failed-detail", vm=vm_name, needed=needed_mb)
    suffix = texts.get("vm_id_suffix", vm_id=vm_id)
    detail_lines = [f"{line} {suffix}" for line in details.splitlines()]
    lines = [*summary.splitlines(), *detail_lines]
    return {
        "message": "\n".join(lines),
        "error_id": f"OutOfMemory,{POWER_CMDLETS['start_vm']}",
        "category": "FromStdErr",
        "hresult": E_OUTOFMEMORY,
        "rule": "start-out-of-memory",
        "needed_bytes": needed_mb * 1024 * 1024,
    }


def power_state_record(
    texts: Texts, op: str, vm_name: str, vm_id: str, state: str
) -> dict[str, Any]:
    """The record of a power action the VM's current state does not allow."""
    detail = texts.get("power-invalid-state", vm=vm_name, state=state)
    return {
        "message": _server_message_with(texts.get("power-failed", vm=vm_name), texts,
                                        vm_id, detail),
        "error_id": f"InvalidState,{POWER_CMDLETS[op]}",
        "category": "InvalidOperation",
        "hresult": None,
        "rule": "power-invalid-state",
    }


def _server_message_with(head: str, texts: Texts, vm_id: str, detail: str) -> str:
    suffix = texts.get("vm_id_suffix", vm_id=vm_id)
    return "\n".join([head, *(f"{line} {suffix}" for line in detail.splitlines())])
