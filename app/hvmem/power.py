"""Power actions on one VM (start, shut down, turn off, save), and whether a start fits.

`start_fit` tells, before a start, whether the VM's startup memory fits in what the host
has free, in plain words. `power` runs one action through a `HostClient` and says what
happened; a failure is classified by Hyper-V's error id and HRESULT
(`errors.classify_record`), never by its (possibly localised) text. Like
`hvmem.controller`, this module blocks and imports no Qt: the window calls it from a
worker thread.

Outcomes:
    done      the VM reached the state the action leads to.
    refused   Hyper-V (or the agent) did not do it; `error` and `host_errors` say why.
    conflict  the VM was no longer in the state hvmem last read; nothing was done.
    unknown   the connection failed during the action; `vm_after` is what a read-back
              found (None when even that failed).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from hvmem import controller
from hvmem.errors import ErrorKind, HostErrorClass, HvmemError, classify_record
from hvmem.hyperv.client import ConflictError, HostClient, HostOperationError
from hvmem.hyperv.protocol import ErrorRecord
from hvmem.model import HostSnapshot, VmSnapshot

log = logging.getLogger("hvmem.power")

Action = Literal["start", "stop", "turn_off", "save"]
PowerOutcome = Literal["done", "refused", "conflict", "unknown"]

ACTIONS: tuple[Action, ...] = ("start", "stop", "turn_off", "save")
# What each action is called in a sentence, and the state it leads to.
VERBS: dict[Action, str] = {"start": "start", "stop": "shut down",
                            "turn_off": "turn off", "save": "save"}
TARGET_STATES: dict[Action, str] = {"start": "Running", "stop": "Off",
                                    "turn_off": "Off", "save": "Saved"}
# States from which a start needs free memory (the others hold theirs already).
STATES_NEEDING_MEMORY = frozenset({"Off", "Saved"})



@dataclass(frozen=True)
class StartFit:
    """Whether a VM's startup memory fits in the host's free memory.

    Attributes:
        fits: True when it fits, or when the VM needs no memory to start (it holds its
            memory already).
        needed_mb: what the start needs (0 when the VM holds its memory already).
        available_mb: what the host reported free.
        message: the same in one plain sentence.
    """

    fits: bool
    needed_mb: int
    available_mb: int
    message: str

    @property
    def shortfall_mb(self) -> int:
        """How much memory must be freed first (0 when it fits)."""
        return max(self.needed_mb - self.available_mb, 0)


def start_fit(vm: VmSnapshot, host: HostSnapshot) -> StartFit:
    """Whether `vm` can start with what `host` has free, said in plain words.

    A VM needs its Startup memory free to start (with Dynamic Memory too). A saved VM
    restores the memory it was saved with, which the host does not report; Startup is
    then the best estimate, and the message says so for a Dynamic Memory VM.
    """
    free = host.available_mb
    if vm.state not in STATES_NEEDING_MEMORY:
        return StartFit(True, 0, free, f"{vm.name} is {vm.state.lower()} and holds its "
                        "memory already; starting it needs no more.")

    needed = vm.memory.startup_mb
    verb = "to start" if vm.state == "Off" else "to resume from its saved state"
    estimate = vm.state == "Saved" and vm.memory.dynamic
    amount = f"about {needed} MB" if estimate else f"{needed} MB"
    if needed <= free:
        message = f"{vm.name} needs {amount} {verb}; the host has {free} MB free."
    else:
        message = (f"{vm.name} needs {amount} {verb}; the host has only {free} MB free: "
                   f"free {needed - free} MB first, e.g. by shrinking a running VM.")
    if estimate:
        message += " (A saved VM restores the memory it had when saved.)"
    return StartFit(needed <= free, needed, free, message)


@dataclass(frozen=True)
class PowerResult:
    """What one power action did, for a dialog, a status line or the command line.

    Attributes:
        outcome: done, refused, conflict or unknown (see the module docstring).
        action: the action asked for.
        vm_before: the VM as hvmem last read it.
        vm_after: the VM afterwards (None when it could not be read).
        error: the failure, with a summary a person understands, the host's text and
            ids in `details`, and a hint; None when done.
        host_errors: Hyper-V's own error records, verbatim.
        host_class: Hyper-V's failure class from the records' ids and HRESULTs (e.g.
            OUT_OF_MEMORY for a start without enough free memory); None without records.
        notes: extra sentences, such as a lost connection a read-back recovered from.
    """

    outcome: PowerOutcome
    action: Action
    vm_before: VmSnapshot
    vm_after: VmSnapshot | None
    error: HvmemError | None = None
    host_errors: tuple[ErrorRecord, ...] = ()
    host_class: HostErrorClass | None = None
    notes: tuple[str, ...] = field(default=())

    def summary(self) -> str:
        """What happened, in one or two plain sentences."""
        name = self.vm_before.name
        if self.outcome == "done":
            state = self.vm_after.state if self.vm_after else TARGET_STATES[self.action]
            text = f"{name} is {state} now."
        elif self.outcome == "conflict":
            now = self.vm_after.state if self.vm_after else "in another state"
            text = (f"{name} is {now} now, not {self.vm_before.state} as hvmem read it; "
                    "nothing was done. Look at its current state and try again.")
        elif self.outcome == "unknown":
            text = (f"The connection failed while asking {name} to "
                    f"{VERBS[self.action]}; whether it did is not known")
            text += (f". Read again, it is {self.vm_after.state} now." if self.vm_after
                     else ". Refresh to see its state.")
        else:
            text = self.error.summary if self.error else f"{name} did not change."
        return " ".join((text, *self.notes))

    def to_json(self) -> dict[str, Any]:
        """The `hvmem start|stop|turn-off|save --json` shape (without the VM itself)."""
        return {
            "outcome": self.outcome,
            "action": self.action,
            "summary": self.summary(),
            "state_before": self.vm_before.state,
            "state_after": self.vm_after.state if self.vm_after else None,
            "host_class": self.host_class.value if self.host_class else None,
            "host_errors": [controller.record_to_json(r) for r in self.host_errors],
        }


def power(client: HostClient, vm: VmSnapshot, action: Action) -> PowerResult:
    """Run `action` on `vm` through `client` and classify what the host did.

    Args:
        client: the VM's host.
        vm: the VM as last read; its state guards the action (a VM that moved meanwhile
            gives a conflict, and nothing is done).
        action: start, stop (shut down through the guest), turn_off or save.

    Returns:
        The outcome; never raises HvmemError.
    """
    call = _client_call(client, action)
    log.info("%s: %s (state %s)", vm.name, action, vm.state)
    try:
        after = call(vm)
    except ConflictError as exc:
        current = exc.current or controller.read_back(client, vm.id)
        return _made(PowerResult("conflict", action, vm, current, error=exc))
    except HostOperationError as exc:
        return _made(_refused_by_host(vm, action, exc))
    except HvmemError as exc:
        return _made(_after_failed_call(client, vm, action, exc))
    return _made(PowerResult("done", action, vm, after))


def _client_call(client: HostClient,
                 action: Action) -> Callable[[VmSnapshot], VmSnapshot]:
    if action == "start":
        return client.start_vm
    if action == "stop":
        return client.stop_vm
    if action == "turn_off":
        return client.turn_off_vm
    if action == "save":
        return client.save_vm
    raise ValueError(f"unknown power action {action!r}")


def _made(result: PowerResult) -> PowerResult:
    log.info("%s: %s -> %s", result.vm_before.name, result.action, result.outcome)
    return result


def host_class_of(records: tuple[ErrorRecord, ...]) -> HostErrorClass | None:
    """The first specific class among the records (OTHER if none is; None if empty)."""
    classes = [classify_record(record) for record in records]
    specific = [c for c in classes if c is not HostErrorClass.OTHER]
    if specific:
        return specific[0]
    return HostErrorClass.OTHER if classes else None


def _refused_by_host(vm: VmSnapshot, action: Action,
                     exc: HostOperationError) -> PowerResult:
    """Hyper-V refused: a summary by failure class, the host's text kept verbatim."""
    host_class = host_class_of(exc.records)
    summary, hint = _explain(vm, action, host_class)
    error = HvmemError(ErrorKind.HOST, summary, details=exc.details, hint=hint,
                       host=exc.host, records=exc.records)
    return PowerResult("refused", action, vm, exc.vm_after, error=error,
                       host_errors=exc.records, host_class=host_class)


def _explain(vm: VmSnapshot, action: Action,
             host_class: HostErrorClass | None) -> tuple[str, str]:
    """A summary and a hint for a refusal of class `host_class`."""
    verb = VERBS[action]
    if host_class is HostErrorClass.OUT_OF_MEMORY:
        return (f"The host does not have enough free memory to {verb} {vm.name}",
                "Free memory first (shrink, save or shut down a running VM), then "
                "start it again.")
    if host_class is HostErrorClass.INVALID_STATE:
        return (f"Hyper-V cannot {verb} {vm.name} in its current state",
                "Look at the VM's state now; Hyper-V's own reason is in the details.")
    if host_class is HostErrorClass.ACCESS_DENIED:
        return (f"This account may not {verb} {vm.name}",
                "Connect as a member of the host's Hyper-V Administrators group.")
    return (f"Hyper-V could not {verb} {vm.name}",
            "Hyper-V's own reason is in the details.")


def _after_failed_call(client: HostClient, vm: VmSnapshot, action: Action,
                       exc: HvmemError) -> PowerResult:
    """The call failed outside Hyper-V: refused if it never ran, else read back once."""
    if exc.kind not in controller.TRANSPORT_KINDS:
        return PowerResult("refused", action, vm, None, error=exc,
                           host_errors=exc.records, host_class=host_class_of(exc.records))

    log.warning("%s: connection failed during %s (%s); reading back once",
                vm.name, action, exc)
    after = controller.read_back(client, vm.id)
    note = ("The connection failed during the action; hvmem read the VM again to find "
            "out what happened.",)
    if after is not None and after.state == TARGET_STATES[action]:
        return PowerResult("done", action, vm, after, notes=note)
    return PowerResult("unknown", action, vm, after, error=exc)
