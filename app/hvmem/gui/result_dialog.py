"""The words of every box hvmem shows: errors and the outcomes of an apply.

`describe_result` turns a controller `ApplyResult` into a `ResultMessage` (title, one-line
summary, informative text, details); `describe_error` does the same for an `HvmemError`.
`Notifier` shows them; keeping the words here keeps them testable without a dialog.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from hvmem.errors import ErrorKind, HvmemError, format_records
from hvmem.model import MemorySettings, VmSnapshot
from hvmem.rules import LABELS

if TYPE_CHECKING:
    from hvmem.controller import ApplyResult

Severity = Literal["error", "warning", "info", "question"]

# What the user may do after a partial result, as (key, button label).
PARTIAL_CHOICES = (
    ("keep", "&Keep What Was Achieved"),
    ("retry", "&Try Again"),
    ("back", "&Go Back to Before"),
)

# Reasons hvmem derives from Hyper-V's ids that say what to do next; the others only
# repeat Hyper-V's text, which the box shows anyway.
ADVICE_RULES = frozenset(
    {"host-free-memory", "guest-in-use", "guest-no-hot-add", "guest-no-hot-remove"})


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
    label = LABELS.get(name, name)
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
        # modify device 'Memory'."), the reason follows on the next lines. What to do
        # next (the reason hvmem derived from Hyper-V's ids) comes first.
        said = "Hyper-V says: " + " ".join(result.host_errors[0].message.split())
        advice = [f.message for f in result.reasons if f.rule in ADVICE_RULES]
        return "\n".join([*advice, said])
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
            before = settings_text(result.before, result.asked)
            lines = [f"You asked for: {asked}.", f"The VM has now: {now}.",
                     f"Before the change: {before}."]
        case "rejected":
            summary = f"The change to {vm_name} was not sent: it breaks a memory rule"
            lines = [f"You asked for: {asked}."]
        case "refused":
            summary = _refused_summary(result, vm_name)
            lines = [f"You asked for: {asked}.", f"The VM still has: {now}."]
        case "conflict":
            summary = (f"{vm_name} changed on the host since it was read; "
                       "nothing was applied")
            lines = [f"You asked for: {asked}.", *_conflict_lines(result, vm_name)]
        case _:
            summary = f"hvmem cannot tell whether {vm_name}'s memory changed"
            lines = [f"You asked for: {asked}.", f"Last read from the VM: {now}."]

    lines.extend(result.notes)
    if reason:
        lines.append(reason)
    if hint:
        lines.append(hint)
    if result.outcome == "partial":
        lines.append("Keep what was achieved, try the same change again, or go back "
                     "to the values before the change.")
    # Part of the change landed: a warning to weigh, not an error.
    severity: Severity = "warning" if result.outcome == "partial" else "error"
    return ResultMessage(title, summary, "\n".join(lines), details, severity)


def _refused_summary(result: ApplyResult, vm_name: str) -> str:
    """Hyper-V's refusal, or the failure that stopped the change before Hyper-V saw
    it (refused credentials, no rights, an untrusted certificate...)."""
    error = result.error
    if result.host_errors or error is None or error.kind is ErrorKind.HOST:
        return f"Hyper-V refused the change to {vm_name}'s memory"
    return f"The change to {vm_name}'s memory was not made. {error.summary}"


def _conflict_lines(result: ApplyResult, vm_name: str) -> list[str]:
    """What moved between the read and the apply: the VM's state (it stopped, started,
    was saved), its settings, or both; the same value twice says nothing."""
    lines = []
    if result.state_changed:
        lines.append(f"The state changed: {vm_name} was {result.state_before} when "
                     f"this window read it, and is {result.state_after} now.")
    names = _moved_names(result)
    settings_moved = result.after is None or any(
        getattr(result.before, name) != getattr(result.after, name) for name in names)
    if settings_moved or not result.state_changed:
        lines.append(f"When this window read it: {settings_text(result.before, names)}.")
        lines.append(f"The VM has now: {settings_text(result.after, names)}.")
    return lines


def _moved_names(result: ApplyResult) -> tuple[str, ...]:
    """The settings that differ between what was read and what the host has now (the
    asked ones when nothing differs or the VM was not read)."""
    if result.after is None:
        return result.asked
    moved = tuple(name for name in LABELS
                  if getattr(result.before, name) != getattr(result.after, name))
    return moved or result.asked


def describe_reread(result: ApplyResult, vm_name: str, vm: VmSnapshot | None,
                    error: HvmemError | None) -> ResultMessage:
    """The box for an unknown outcome after hvmem read the VM again (`vm`), or failed
    to (`error`)."""
    title = f"Settings for {vm_name}"
    asked = settings_text(result.requested, result.asked)
    lines = [f"You asked for: {asked}."]
    if vm is not None:
        summary = (f"The connection broke while changing {vm_name}; "
                   "hvmem read the VM again")
        has = settings_text(vm.memory, result.asked)
        lines.append(f"The host has now: {has} (assigned now {vm.assigned_mb} MB).")
        landed = all(getattr(vm.memory, n) == getattr(result.requested, n)
                     for n in result.asked)
        lines.append("The change landed." if landed else "The change did not land "
                     "completely; look at the values and try again if needed.")
    else:
        summary = f"hvmem cannot tell whether {vm_name}'s memory changed"
        lines.append("hvmem could not read the VM again"
                     + (f": {error.summary}." if error is not None else "."))
        lines.append("Refresh when the host answers again to see its values.")
    if result.error is not None:
        lines.append(f"The connection failed with: {result.error.summary}")
    details = "\n\n".join(part for part in (
        _details(result), error.details if error is not None else "") if part)
    return ResultMessage(title, summary, "\n".join(lines), details,
                         "warning" if vm is not None else "error")
