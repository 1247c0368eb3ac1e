"""The words of every box hvmem shows: errors and the outcomes of an apply.

`describe_result` turns a controller `ApplyResult` into a `ResultMessage` (title, one-line
summary, informative text, details); `describe_error` does the same for an `HvmemError`.
`Notifier` shows them; keeping the words here keeps them testable without a dialog.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from hvmem.errors import HvmemError, format_records
from hvmem.model import MemorySettings

if TYPE_CHECKING:
    from hvmem.controller import ApplyResult

Severity = Literal["error", "warning", "info"]

FIELD_LABELS = {
    "startup_mb": "Startup RAM",
    "dynamic": "Dynamic Memory",
    "minimum_mb": "Minimum RAM",
    "maximum_mb": "Maximum RAM",
    "buffer_percent": "Memory buffer",
    "weight": "Memory weight",
}


@dataclass(frozen=True)
class ResultMessage:
    """What one box says; `details` is the host's verbatim text and ids."""

    title: str
    summary: str
    informative: str = ""
    details: str = ""
    severity: Severity = "error"


def setting_text(name: str, value: object) -> str:
    """One setting as the Memory page would say it: "Startup RAM 4,096 MB"."""
    label = FIELD_LABELS.get(name, name)
    if isinstance(value, bool):
        return f"{label} {'on' if value else 'off'}"
    if name.endswith("_mb"):
        return f"{label} {value} MB"
    if name == "buffer_percent":
        return f"{label} {value} %"
    return f"{label} {value}"


def settings_text(settings: MemorySettings | None, names: Iterable[str]) -> str:
    if settings is None:
        return "unknown"
    return ", ".join(setting_text(name, getattr(settings, name)) for name in names)


def describe_error(error: HvmemError, title: str = "hvmem") -> ResultMessage:
    """An `HvmemError` as a box: its summary, its hint, the host's details."""
    where = f"On {error.host}: " if error.host else ""
    informative = error.hint
    details = error.details or format_records(error.records)
    return ResultMessage(title, f"{where}{error.summary}", informative, details, "error")


def _now_text(result: ApplyResult) -> str:
    if result.after is None:
        return "unknown (the VM could not be read back)"
    parts = []
    for name in result.asked:
        if name == "startup_mb" and result.runtime_resize:
            # A runtime resize lands in assigned memory; that is what the guest has.
            parts.append(f"Assigned memory {result.has_value(name)} MB")
        else:
            parts.append(setting_text(name, result.has_value(name)))
    text = ", ".join(parts)
    if result.assigned_after_mb is not None and not result.runtime_resize:
        text += f" (assigned now {result.assigned_after_mb} MB)"
    return text


def _details(result: ApplyResult) -> str:
    parts = []
    if result.host_errors:
        parts.append(format_records(result.host_errors))
    error = result.error
    if error is not None and error.details and error.details not in parts:
        parts.append(error.details)
    return "\n\n".join(parts)


def _reason(result: ApplyResult) -> str:
    if result.host_errors:
        # The whole first record: its first line often only names the device ("Failed to
        # modify device 'Memory'."), the reason follows on the next lines.
        return "Hyper-V says: " + " ".join(result.host_errors[0].message.split())
    if result.reasons:
        return "\n".join(f"[{f.rule}] {f.message}" for f in result.reasons)
    if result.error is not None:
        return result.error.summary
    return ""


def describe_result(result: ApplyResult, vm_name: str) -> ResultMessage:
    """The box for an apply that did not simply work (or a status line when it did)."""
    title = f"Settings for {vm_name}"
    asked = settings_text(result.requested, result.asked)
    now = _now_text(result)
    reason = _reason(result)
    hint = result.error.hint if result.error is not None else ""
    details = _details(result)
    lines: list[str]

    match result.outcome:
        case "applied" | "unchanged":
            return ResultMessage(title, result.summary(), severity="info")
        case "partial":
            summary = f"{vm_name} got only part of the memory change"
            lines = [f"You asked for: {asked}.", f"The VM has now: {now}."]
        case "rejected":
            summary = f"The change to {vm_name} was not sent: it breaks a memory rule"
            lines = [f"You asked for: {asked}."]
        case "refused":
            summary = f"Hyper-V refused the change to {vm_name}'s memory"
            lines = [f"You asked for: {asked}.", f"The VM still has: {now}."]
        case "conflict":
            summary = (f"{vm_name} changed on the host since it was read; "
                       "nothing was applied")
            lines = [f"You asked for: {asked}.", f"The VM has now: {now}."]
        case _:
            summary = f"hvmem cannot tell whether {vm_name}'s memory changed"
            lines = [f"You asked for: {asked}.", f"Last read from the VM: {now}."]

    lines.extend(result.notes)
    if reason:
        lines.append(reason)
    if hint:
        lines.append(hint)
    return ResultMessage(title, summary, "\n".join(lines), details, "error")
