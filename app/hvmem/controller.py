"""Applying one memory edit: check it, send it once, read the VM back, say what happened.

`apply` is the only road an edit takes to a host, for the window and the command line
alike. It blocks (reads are polled until the VM's memory settles), so the window calls it
from a worker thread; it imports no Qt. It never sends a write twice: after a lost
connection it only reads, and when even that fails it says the outcome is unknown.

Outcomes:
    unchanged  the edit asks for the values the VM already has; nothing was sent.
    rejected   a rule refused it before sending (`reasons`); nothing was sent.
    applied    the host now has every value asked for.
    partial    some asked values moved, not all the way (a runtime resize cut short).
    refused    Hyper-V changed nothing (`host_errors` or `error` say why).
    conflict   the VM changed on the host since it was read; nothing was applied.
    unknown    the connection failed and the VM could not be read again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from hvmem import rules
from hvmem.errors import ErrorKind, HostErrorClass, HvmemError, classify_record
from hvmem.hyperv.client import ConflictError, HostClient, HostOperationError
from hvmem.hyperv.protocol import ErrorRecord
from hvmem.model import HostSnapshot, MemoryChange, MemorySettings, VmSnapshot
from hvmem.rules import LABELS, Finding
from hvmem.units import format_mb

log = logging.getLogger("hvmem.apply")

Outcome = Literal[
    "applied", "partial", "rejected", "refused", "conflict", "unknown", "unchanged"
]

# Failures after which the write may or may not have reached Hyper-V.
TRANSPORT_KINDS = frozenset(
    {ErrorKind.UNREACHABLE, ErrorKind.TIMEOUT, ErrorKind.WSMAN_FAULT, ErrorKind.AGENT}
)


def settings_to_json(settings: MemorySettings) -> dict[str, Any]:
    """Memory settings in the command line's JSON shape (MB keys)."""
    return {
        "dynamic_memory": settings.dynamic,
        "startup_mb": settings.startup_mb,
        "minimum_mb": settings.minimum_mb,
        "maximum_mb": settings.maximum_mb,
        "buffer_percent": settings.buffer_percent,
        "weight": settings.weight,
    }


def finding_to_json(finding: Finding) -> dict[str, Any]:
    return {"rule": finding.rule, "severity": finding.severity, "field": finding.field,
            "message": finding.message}


def record_to_json(record: ErrorRecord) -> dict[str, Any]:
    return {"message": record.message, "error_id": record.error_id,
            "category": record.category, "hresult": record.hresult}


@dataclass(frozen=True)
class ApplyResult:
    """What one edit did, for a dialog, a status line or the command line.

    `asked` names the settings that were asked to change. For a runtime resize
    (`runtime_resize`) the VM's memory is its assigned memory, so Startup is compared
    through `assigned_after_mb`. `notes` carries extra sentences, such as a lost
    connection that a read-back recovered from. `state_before` is the VM's state as
    the edit was made against, `state_after` its state when read back (None when not
    read), so a conflict can say that the VM stopped or started meanwhile.
    """

    outcome: Outcome
    vm_id: str
    vm_name: str
    before: MemorySettings
    requested: MemorySettings
    after: MemorySettings | None
    assigned_after_mb: int | None
    reasons: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    host_errors: list[ErrorRecord] = field(default_factory=list)
    error: HvmemError | None = None
    asked: tuple[str, ...] = ()
    runtime_resize: bool = False
    notes: tuple[str, ...] = ()
    state_before: str = ""
    state_after: str | None = None

    @property
    def state_changed(self) -> bool:
        """Whether the VM was read back in another state than the edit was made in."""
        return self.state_after is not None and self.state_after != self.state_before

    def has_value(self, name: str) -> Any:
        """The value the host has now for setting `name` (None when not read)."""
        if self.after is None:
            return None
        if name == "startup_mb" and self.runtime_resize:
            return self.assigned_after_mb
        return getattr(self.after, name)

    def summary(self) -> str:
        """What happened, in plain words, with Hyper-V's first line if it said any."""
        text = _SUMMARIES[self.outcome](self)
        extra = " ".join(self.notes)
        return f"{text} {extra}".strip()

    def host_text(self) -> str:
        """What the host said in its first error record, on one line, or ''.

        Hyper-V's first line is usually the generic "Failed to modify device
        'Memory'."; the reason is in the lines after it, so all of them are kept.
        """
        for record in self.host_errors:
            lines = [line.strip() for line in record.message.splitlines()]
            text = " ".join(line for line in lines if line)
            if text:
                return text
        return ""

    def to_json(self) -> dict[str, Any]:
        """The `hvmem set --json` shape."""
        return {
            "outcome": self.outcome,
            "vm": {"id": self.vm_id, "name": self.vm_name},
            "before": settings_to_json(self.before),
            "requested": settings_to_json(self.requested),
            "after": settings_to_json(self.after) if self.after is not None else None,
            "reasons": [finding_to_json(f) for f in self.reasons],
            "warnings": [finding_to_json(f) for f in self.warnings],
            "host_errors": [record_to_json(r) for r in self.host_errors],
        }


def _show(name: str, value: Any) -> str:
    if name == "dynamic":
        return "on" if value else "off"
    if name in rules.SIZE_FIELDS:
        return format_mb(value)
    return f"{value} %" if name == "buffer_percent" else str(value)


def _mismatches(result: ApplyResult) -> list[str]:
    sentences = []
    for name in result.asked:
        want, has = getattr(result.requested, name), result.has_value(name)
        if want == has:
            continue
        if name == "startup_mb":
            sentences.append(f"Asked for {_show(name, want)}; the VM has "
                             f"{_show(name, has)} now.")
        else:
            sentences.append(f"Asked for {LABELS[name]} {_show(name, want)}; it is "
                             f"{_show(name, has)} now.")
    return sentences


def _sentence(text: str) -> str:
    return text if text.endswith(".") else text + "."


def _with_host_text(result: ApplyResult, text: str) -> str:
    said = result.host_text() or (result.error.summary if result.error else "")
    return f"{text} Hyper-V: {said}" if said else text


def _applied_text(result: ApplyResult) -> str:
    values = ", ".join(f"{LABELS[n]} {_show(n, getattr(result.requested, n))}"
                       for n in result.asked)
    return f"{result.vm_name} now has {values}."


def _conflict_text(result: ApplyResult) -> str:
    moved = (f" (it was {result.state_before}, it is {result.state_after} now)"
             if result.state_changed else "")
    return (f"{result.vm_name} changed on the host since hvmem read it{moved}; nothing "
            "was applied. Look at its current values and try again.")


_SUMMARIES: dict[str, Callable[[ApplyResult], str]] = {
    "unchanged": lambda r: f"{r.vm_name} already has these memory settings; "
                           "nothing was sent.",
    "rejected": lambda r: "Not sent: " + " ".join(
        f"[{f.rule}] {_sentence(f.message)}" for f in r.reasons),
    "applied": _applied_text,
    "partial": lambda r: _with_host_text(r, " ".join(_mismatches(r))),
    "refused": lambda r: _with_host_text(r, f"Hyper-V did not change {r.vm_name}."),
    "conflict": _conflict_text,
    "unknown": lambda r: f"The connection failed while changing {r.vm_name}, and hvmem "
                         "could not read it again: whether the change landed is not "
                         "known. Refresh to see the VM's values."
                         + (f" ({r.error.summary})" if r.error else ""),
}


def apply(
    client: HostClient,
    vm: VmSnapshot,
    change: MemoryChange,
    host: HostSnapshot | None = None,
    *,
    settle_timeout: float = 5.0,
    poll_interval: float = 0.25,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> ApplyResult:
    """Apply `change` to `vm` through `client` and classify what the host did.

    Args:
        client: the VM's host.
        vm: the VM as last read; its settings guard the write against a concurrent edit.
        change: the settings the user changed.
        host: the host's figures, for the free-memory warning.
        settle_timeout: how long to wait, at most, for a runtime resize to settle.
        poll_interval: the pause between read-backs while waiting.
        sleep, clock: time, replaceable by tests.

    Returns:
        The outcome with before, requested and after values; never raises HvmemError.
    """
    effective = rules.effective_change(vm, change)
    runtime = rules.is_runtime_resize(vm) and effective.startup_mb is not None
    result = _Result(vm, effective, runtime)
    if effective.is_empty():
        return result.make("unchanged", vm)

    findings = rules.check(vm, effective, host)
    result.warnings = [f for f in findings if not f.is_error]
    errors = [f for f in findings if f.is_error]
    if errors:
        log.info("%s: edit %s rejected: %s", vm.name, effective.as_dict(),
                 [f.rule for f in errors])
        return result.make("rejected", None, reasons=errors)

    log.info("%s: sending %s", vm.name, effective.as_dict())
    try:
        answered: VmSnapshot | None = client.set_memory(vm, effective)
    except ConflictError as exc:
        current = exc.current or read_back(client, vm.id)
        return result.make("conflict", current, error=exc)
    except HostOperationError as exc:
        result.host_errors = list(exc.records)
        result.error = exc
        answered = exc.vm_after
    except HvmemError as exc:
        return _after_failed_send(client, result, exc)

    wait = runtime and not result.host_errors
    after = _settle(client, vm.id, answered, runtime, wait, settle_timeout,
                    poll_interval, sleep, clock)
    outcome = _classify(vm, result, after)
    return result.make(outcome, after, reasons=_host_reasons(result, outcome))


class _Result:
    """Collects an ApplyResult's parts while `apply` runs."""

    def __init__(self, vm: VmSnapshot, effective: MemoryChange, runtime: bool) -> None:
        self.vm = vm
        self.requested = vm.memory.with_change(effective)
        self.asked = tuple(effective.names())
        self.runtime = runtime
        self.warnings: list[Finding] = []
        self.host_errors: list[ErrorRecord] = []
        self.error: HvmemError | None = None
        self.notes: tuple[str, ...] = ()

    def make(self, outcome: Outcome, after: VmSnapshot | None, *,
             reasons: list[Finding] | None = None,
             error: HvmemError | None = None) -> ApplyResult:
        log.info("%s: outcome %s", self.vm.name, outcome)
        return ApplyResult(
            outcome=outcome, vm_id=self.vm.id, vm_name=self.vm.name,
            before=self.vm.memory, requested=self.requested,
            after=after.memory if after is not None else None,
            assigned_after_mb=after.assigned_mb if after is not None else None,
            reasons=reasons or [], warnings=self.warnings,
            host_errors=self.host_errors, error=error or self.error,
            asked=self.asked, runtime_resize=self.runtime, notes=self.notes,
            state_before=self.vm.state,
            state_after=after.state if after is not None else None,
        )


def _after_failed_send(client: HostClient, result: _Result,
                       exc: HvmemError) -> ApplyResult:
    """The write failed: refused if it surely never ran, else read once to find out."""
    result.error = exc
    if exc.kind not in TRANSPORT_KINDS:
        log.info("%s: the host refused the write: %s", result.vm.name, exc)
        return result.make("refused", None)

    log.warning("%s: connection failed during the write (%s); reading back once",
                result.vm.name, exc)
    after = read_back(client, result.vm.id)
    if after is None:
        return result.make("unknown", None)
    result.notes = ("The connection failed during the change; hvmem read the VM again "
                    "to find out what landed.",)
    return result.make(_classify(result.vm, result, after), after)


def read_back(client: HostClient, vm_id: str) -> VmSnapshot | None:
    """The VM as the host has it now, or None when it cannot be read (logged).

    Used after a write whose outcome is in doubt: a failed read is an answer too
    ("unknown"), so it is not raised.
    """
    try:
        return client.get_vm(vm_id)[1]
    except HvmemError as exc:
        log.warning("read-back of %s failed: %s", vm_id, exc)
        return None


def _settle(client: HostClient, vm_id: str, answered: VmSnapshot | None,
            runtime: bool, wait_for_assigned: bool, timeout: float, interval: float,
            sleep: Callable[[float], None],
            clock: Callable[[], float]) -> VmSnapshot | None:
    """Read the VM back; for a runtime resize, until two reads agree (and, when Hyper-V
    reported no error, until assigned memory reaches Startup), at most `timeout` s.

    A failed read ends the wait with the last good reading (or the write's answer).
    """
    deadline = clock() + timeout
    latest, previous = answered, None
    while True:
        current = read_back(client, vm_id)
        if current is None:
            return latest
        latest = current
        if not runtime:
            return current

        steady = previous is not None and _reading(previous) == _reading(current)
        reached = current.assigned_mb == current.memory.startup_mb
        if steady and (reached or not wait_for_assigned):
            return current
        if clock() + interval > deadline:
            log.info("%s: memory still moving after %.1f s", vm_id, timeout)
            return current
        previous = current
        sleep(interval)


def _reading(vm: VmSnapshot) -> tuple[Any, ...]:
    return (vm.state, vm.memory, vm.assigned_mb)


def value_of(vm: VmSnapshot, name: str, runtime_resize: bool) -> Any:
    """The VM's value for setting `name`; for a runtime resize, Startup is what the VM
    was given (assigned memory), since that is the memory it runs with."""
    if name == "startup_mb" and runtime_resize:
        return vm.assigned_mb
    return getattr(vm.memory, name)


def _classify(before: VmSnapshot, result: _Result, after: VmSnapshot | None) -> Outcome:
    """applied, partial or refused, from what the host has now against what was asked."""
    if after is None:
        return "unknown"

    def has(vm: VmSnapshot, name: str) -> Any:
        return value_of(vm, name, result.runtime)

    if all(has(after, n) == getattr(result.requested, n) for n in result.asked):
        return "applied"
    if all(has(after, n) == has(before, n) for n in result.asked):
        return "refused"
    return "partial"


def _host_reasons(result: _Result, outcome: Outcome) -> list[Finding]:
    """Why Hyper-V did less than asked, as rule findings, from its error ids only.

    For a runtime resize: a guest that cannot add or remove memory at all (NotSupported),
    an increase cut short by the host's free memory (OutOfMemory), or a decrease cut
    short by the guest's own use. Any other refusal is named by Hyper-V's failure class.
    The host's own text follows, verbatim.
    """
    if outcome not in ("partial", "refused") or not result.host_errors:
        return []
    said = result.host_errors[0].message.splitlines()
    text = " ".join(line.strip() for line in said if line.strip())
    classes = {classify_record(record) for record in result.host_errors}

    resized = result.runtime and result.requested.startup_mb != result.vm.assigned_mb
    grow = result.requested.startup_mb > result.vm.assigned_mb
    if resized and HostErrorClass.NOT_SUPPORTED in classes:
        rule, why = (("guest-no-hot-add", "The guest cannot take memory while it runs: "
                      "shut the VM down to raise its Startup RAM.")
                     if grow else
                     ("guest-no-hot-remove", "The guest cannot give memory back while "
                      "it runs: shut the VM down to lower its Startup RAM."))
    elif resized and grow and HostErrorClass.OUT_OF_MEMORY in classes:
        rule, why = ("host-free-memory", "The host did not have enough free memory: "
                     "free some (shrink, save or stop another VM), then try again.")
    elif resized and not grow:
        rule, why = ("guest-in-use", "Hyper-V removes only memory the guest does not "
                     "use: free memory inside the guest, or shut the VM down to lower "
                     "its Startup RAM.")
    else:
        name = min(c.value for c in classes)
        rule, why = f"host-{name.replace('_', '-')}", f"Hyper-V refused it: {text}"
    field = "startup_mb" if resized else None
    return [Finding(rule, "error", field, why)]
