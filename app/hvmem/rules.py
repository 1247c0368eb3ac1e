"""The client's memory rules: which edits Hyper-V will take in a VM's state, and why not.

`check` judges one edit the way one Set-VMMemory call is judged: the final combination
of settings counts, not the order in which fields were typed. Every finding carries a rule
id shared with the simulator (which implements the same rules independently), the field
it is about and a sentence that says what to do. Errors block sending; warnings (host free
memory, guest use) are advice only, since only the host knows what it will really do.

`field_states` tells the Memory page which fields it may offer in the VM's state.

Where the reference leaves a fact unconfirmed, these rules take the safer side: Minimum
and Maximum must be 2 MB aligned like Startup; any state other than Off and Running is
read-only; a configuration version hvmem cannot read does not allow a runtime resize; a
running static VM takes a new Startup RAM only, not a new weight. docs/rules.md lists
every rule id and these choices.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hvmem.model import (
    SETTING_FIELDS,
    HostSnapshot,
    MemoryChange,
    MemorySettings,
    VmSnapshot,
)
from hvmem.units import format_mb

Severity = Literal["error", "warning"]

SIZE_FIELDS = ("startup_mb", "minimum_mb", "maximum_mb")
LOWEST_MB = 32
BUFFER_RANGE = (5, 2000)
WEIGHT_RANGE = (0, 100)
RUNTIME_RESIZE_VERSION = (6, 2)
ONE_TB_MB = 1024 * 1024
TWELVE_TB_MB = 12 * ONE_TB_MB
TWO_FORTY_TB_MB = 240 * ONE_TB_MB

# What each setting is called on Hyper-V's Memory page.
LABELS = {
    "startup_mb": "Startup RAM",
    "dynamic": "Dynamic Memory",
    "minimum_mb": "Minimum RAM",
    "maximum_mb": "Maximum RAM",
    "buffer_percent": "Memory buffer",
    "weight": "Memory weight",
}


@dataclass(frozen=True)
class Finding:
    """One rule's verdict on an edit.

    Attributes:
        rule: the rule id, such as "align-2mb" (shared with the simulator).
        severity: "error" blocks sending; "warning" is advice.
        field: the setting it is about (a `SETTING_FIELDS` name), or None for the VM.
        message: what is wrong and what to do, in plain words.
    """

    rule: str
    severity: Severity
    field: str | None
    message: str

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


@dataclass(frozen=True)
class FieldState:
    """Whether the Memory page may offer a field for editing, and the reason if not.

    Attributes:
        enabled: whether the field may be edited.
        reason: why not (or what limits it), in plain words with what to do.
        rule: the rule id behind `reason`, "" when there is none.
    """

    enabled: bool
    reason: str = ""
    rule: str = ""


def parse_version(text: str) -> tuple[int, ...] | None:
    """A configuration version such as "9.0" as numbers, or None if it is not one."""
    parts = text.strip().split(".")
    if not all(part.isdigit() for part in parts):
        return None
    return tuple(int(part) for part in parts)


def max_bound_mb(vm: VmSnapshot) -> int:
    """The largest memory size Hyper-V allows for the VM's generation and version."""
    version = parse_version(vm.version)
    if vm.generation == 1 or version is None or version < (8, 0):
        return ONE_TB_MB
    if version <= (9, 1):
        return TWELVE_TB_MB
    return TWO_FORTY_TB_MB


def is_read_only_state(vm: VmSnapshot) -> bool:
    """True when no memory setting may change (Saved, Paused, transitional, unknown)."""
    return vm.state not in ("Off", "Running")


def is_runtime_resize(vm: VmSnapshot) -> bool:
    """True when a Startup change on this VM is a hot add or remove."""
    return vm.is_running and not vm.memory.dynamic


def effective_change(vm: VmSnapshot, change: MemoryChange) -> MemoryChange:
    """`change` without the settings it would leave as they are.

    One exception: on a running static VM whose assigned memory never reached its Startup
    (a runtime resize applied in part), asking for that Startup again is a real request.
    """
    effective = vm.memory.diff(vm.memory.with_change(change))
    retry = (
        is_runtime_resize(vm)
        and change.startup_mb is not None
        and change.startup_mb == vm.memory.startup_mb
        and vm.assigned_mb != vm.memory.startup_mb
    )
    if retry:
        return MemoryChange(**{**effective.as_dict(), "startup_mb": change.startup_mb})
    return effective


def check(
    vm: VmSnapshot, change: MemoryChange, host: HostSnapshot | None = None
) -> list[Finding]:
    """Every rule's verdict on applying `change` to `vm` in one call.

    Hyper-V judges the settings a call leaves the VM with as a whole, so a value the user
    did not touch (a Minimum left odd while Dynamic Memory was off, say) is judged too
    once it matters, and its message says so.

    Args:
        vm: the VM as last read from the host.
        change: the settings the user changed; settings equal to the VM's are ignored.
        host: the host's figures, for the warnings; without it no warning is given.

    Returns:
        Errors first, then warnings; an empty list when the edit may be sent as it is.
    """
    change = effective_change(vm, change)
    if change.is_empty():
        return []
    final = vm.memory.with_change(change)

    findings = _dm_required_findings(vm, change, final)
    findings += _value_findings(vm, change, final)
    findings += _combination_findings(vm, final)
    if is_read_only_state(vm):
        findings.insert(0, _error("state-readonly", None, _read_only_text(vm)))
    elif vm.is_running:
        findings += _running_findings(vm, change)

    if host is not None and not any(f.is_error for f in findings):
        findings += _host_warnings(vm, change, host)
    return findings


def _error(rule: str, field: str | None, message: str) -> Finding:
    return Finding(rule, "error", field, message)


# Read-only states, by what the user can do about them.
_SAVED_STATES = ("Saved", "FastSaved", "Hibernated")
_PAUSED_STATES = ("Paused",)


def _read_only_text(vm: VmSnapshot) -> str:
    """Why nothing may change in the VM's state, and what to do about it."""
    state = vm.state
    if state in _SAVED_STATES:
        todo = ("Start it to change what a running VM allows, or start it and shut it "
                "down to change everything")
    elif state in _PAUSED_STATES:
        todo = ("Resume it to change what a running VM allows, or shut it down to change "
                "everything")
    elif state.endswith("Critical"):
        todo = ("Hyper-V reports a problem with the VM (often its storage); fix that in "
                "Hyper-V Manager first")
    elif state.startswith("State "):
        todo = "hvmem does not know this state; refresh, and change memory once the VM " \
               "is Running or Off"
    else:
        todo = "Wait until it is Running or Off, then refresh"
    return f"The VM is {state}; Hyper-V changes no memory setting in this state. {todo}."


def _held_note(name: str, value: int, change: MemoryChange) -> str:
    """For a value the user did not type: where it comes from and what to do."""
    if getattr(change, name) is not None:
        return ""
    shown = format_mb(value) if name in SIZE_FIELDS else str(value)
    return (f" (the VM holds {shown}; Hyper-V checks every setting together, so set "
            f"{LABELS[name]} in the same change)")


def _dm_required_findings(
    vm: VmSnapshot, change: MemoryChange, final: MemorySettings
) -> list[Finding]:
    """Minimum, Maximum and Buffer sent while Dynamic Memory ends up off."""
    if final.dynamic:
        return []
    if vm.state == "Off":
        todo = "turn Dynamic Memory on in the same change, or leave it as it is"
    else:
        todo = ("Dynamic Memory can only be turned on while the VM is off, so shut it "
                "down first, or leave it as it is")
    return [
        _error("dm-required", name,
               f"{LABELS[name]} applies only with Dynamic Memory; {todo}")
        for name in ("minimum_mb", "maximum_mb", "buffer_percent")
        if getattr(change, name) is not None
    ]


def _value_findings(
    vm: VmSnapshot, change: MemoryChange, final: MemorySettings
) -> list[Finding]:
    """Alignment, bounds and ranges of every value that counts in the final settings.

    Startup RAM and the weight always count; Minimum, Maximum and the buffer only with
    Dynamic Memory (Hyper-V keeps them unchecked on a static VM).
    """
    sizes = ["startup_mb"] + (["minimum_mb", "maximum_mb"] if final.dynamic else [])
    findings: list[Finding] = []
    for name in sizes:
        findings += _size_findings(vm, name, getattr(final, name), change)

    buffer = final.buffer_percent
    if final.dynamic and not BUFFER_RANGE[0] <= buffer <= BUFFER_RANGE[1]:
        findings.append(_error(
            "buffer-range", "buffer_percent",
            f"Buffer must be between {BUFFER_RANGE[0]} and {BUFFER_RANGE[1]} %"
            + _held_note("buffer_percent", buffer, change),
        ))
    weight = final.weight
    if not WEIGHT_RANGE[0] <= weight <= WEIGHT_RANGE[1]:
        findings.append(_error(
            "weight-range", "weight",
            f"Memory weight must be between {WEIGHT_RANGE[0]} and {WEIGHT_RANGE[1]}"
            + _held_note("weight", weight, change),
        ))
    return findings


def _size_findings(
    vm: VmSnapshot, name: str, value: int, change: MemoryChange
) -> list[Finding]:
    """The 2 MB grain, the 32 MB floor and the VM's upper bound for one size."""
    label, held = LABELS[name], _held_note(name, value, change)
    bound = max_bound_mb(vm)
    findings = []
    if value % 2:
        findings.append(_error(
            "align-2mb", name,
            f"{label} must be a multiple of 2 MB ({value - 1} or {value + 1}){held}",
        ))
    if value < LOWEST_MB:
        findings.append(_error(
            "min-32mb", name, f"{label} must be at least {LOWEST_MB} MB{held}",
        ))
    if value > bound:
        findings.append(_error(
            "max-bound", name,
            f"{label} can be at most {format_mb(bound)} for a generation "
            f"{vm.generation} VM with configuration version {vm.version or '?'}; "
            f"choose a smaller value{held}",
        ))
    return findings


def _combination_findings(vm: VmSnapshot, final: MemorySettings) -> list[Finding]:
    """Rules on the settings the VM would end with (Dynamic Memory only)."""
    if not final.dynamic:
        return []
    findings = []
    changed = vm.memory.diff(final).as_dict()
    if final.minimum_mb > final.startup_mb:
        field = "minimum_mb" if "minimum_mb" in changed else "startup_mb"
        findings.append(_error(
            "order-min-startup", field,
            f"Minimum RAM ({format_mb(final.minimum_mb)}) must not be above Startup RAM "
            f"({format_mb(final.startup_mb)}); lower Minimum RAM or raise Startup RAM",
        ))
    if final.startup_mb > final.maximum_mb:
        field = "maximum_mb" if "maximum_mb" in changed else "startup_mb"
        findings.append(_error(
            "order-startup-max", field,
            f"Maximum RAM ({format_mb(final.maximum_mb)}) must be at least Startup RAM "
            f"({format_mb(final.startup_mb)}); raise Maximum RAM or lower Startup RAM",
        ))
    if vm.gpu_partition and final.startup_mb != final.minimum_mb:
        field = "minimum_mb" if "minimum_mb" in changed else "startup_mb"
        findings.append(_error(
            "gpu-startup-min", field,
            "With a GPU partition and Dynamic Memory, Minimum RAM must equal Startup RAM "
            f"(now {format_mb(final.minimum_mb)} and {format_mb(final.startup_mb)}); set "
            "them equal, or leave Dynamic Memory off",
        ))
    return findings


def _running_findings(vm: VmSnapshot, change: MemoryChange) -> list[Finding]:
    """What Hyper-V refuses while the VM runs."""
    findings = []
    if change.dynamic is not None:
        findings.append(_error("running-dm-toggle", "dynamic", TOGGLE_WHILE_RUNNING))
    if vm.memory.dynamic:
        return findings + _running_dynamic_findings(vm.memory, change)

    if change.weight is not None:
        findings.append(_error("state-readonly", "weight", STATIC_WEIGHT_WHILE_RUNNING))
    if change.startup_mb is not None:
        findings += [_error(rule, "startup_mb", message)
                     for rule, message in _runtime_resize_blockers(vm)]
    return findings


TOGGLE_WHILE_RUNNING = "Shut down the VM to turn Dynamic Memory on or off"
# The reference leaves the weight of a running static VM unconfirmed; the state
# matrix (startup only) is the safer reading, and the simulator takes it too.
STATIC_WEIGHT_WHILE_RUNNING = (
    "While the VM runs with static memory, its memory weight cannot change; shut the "
    "VM down to change it")


def _running_dynamic_findings(now: MemorySettings, change: MemoryChange
                              ) -> list[Finding]:
    """Startup fixed, Minimum only down, Maximum only up."""
    findings = []
    if change.startup_mb is not None:
        findings.append(_error(
            "running-dm-startup", "startup_mb",
            "While the VM runs with Dynamic Memory, Startup RAM cannot change "
            f"(now {format_mb(now.startup_mb)}); shut the VM down to change it",
        ))
    if change.minimum_mb is not None and change.minimum_mb > now.minimum_mb:
        findings.append(_error(
            "running-dm-min-raise", "minimum_mb",
            "While the VM runs, Minimum RAM can only be lowered "
            f"(now {format_mb(now.minimum_mb)}); shut the VM down to raise it",
        ))
    if change.maximum_mb is not None and change.maximum_mb < now.maximum_mb:
        findings.append(_error(
            "running-dm-max-lower", "maximum_mb",
            "While the VM runs, Maximum RAM can only be raised "
            f"(now {format_mb(now.maximum_mb)}); shut the VM down to lower it",
        ))
    return findings


def _runtime_resize_blockers(vm: VmSnapshot) -> list[tuple[str, str]]:
    """Why a running static VM cannot be resized, as (rule, message) pairs."""
    blockers = []
    version = parse_version(vm.version)
    if version is None or version < RUNTIME_RESIZE_VERSION:
        shown = f"Configuration version {vm.version}" if vm.version else (
            "An unknown configuration version")
        blockers.append((
            "runtime-resize-version",
            f"{shown} is too old to resize memory while the VM runs (6.2 or later "
            "needed); shut the VM down to change Startup RAM, or upgrade its "
            "configuration version"))
    if vm.nested_virtualization:
        blockers.append((
            "runtime-resize-nested",
            "Memory cannot be resized while the VM runs with nested virtualization; "
            "shut the VM down to change Startup RAM"))
    return blockers


def _host_warnings(
    vm: VmSnapshot, change: MemoryChange, host: HostSnapshot
) -> list[Finding]:
    """Advice only the host can confirm: free host memory and the guest's own use."""
    if change.startup_mb is None:
        return []
    free = max(host.available_mb, 0)
    free_even = free - free % 2
    wanted = change.startup_mb

    if is_runtime_resize(vm):
        if wanted - vm.assigned_mb > free:
            if free_even == 0:
                outcome = (f"Hyper-V is likely to add nothing, and the VM would keep "
                           f"its {format_mb(vm.assigned_mb)}")
            else:
                outcome = (f"Hyper-V is likely to add only about {format_mb(free_even)}: "
                           f"the VM would end up with about "
                           f"{format_mb(vm.assigned_mb + free_even)} instead of the "
                           f"{format_mb(wanted)} asked for")
            return [Finding(
                "host-free-memory", "warning", "startup_mb",
                f"The host has about {format_mb(free)} free, so {outcome}",
            )]
        if wanted < vm.assigned_mb and wanted < vm.demand_mb:
            kept = min(vm.demand_mb + vm.demand_mb % 2, vm.assigned_mb)
            if kept >= vm.assigned_mb:
                outcome = "it is likely to remove nothing"
            else:
                outcome = (f"it is likely to remove only about "
                           f"{format_mb(vm.assigned_mb - kept)}: the VM would keep about "
                           f"{format_mb(kept)} instead of the {format_mb(wanted)} "
                           "asked for")
            return [Finding(
                "guest-in-use", "warning", "startup_mb",
                f"The guest is using about {format_mb(vm.demand_mb)}, and Hyper-V removes "
                f"only memory the guest does not use, so {outcome}",
            )]
    elif vm.state == "Off" and wanted > free:
        return [Finding(
            "host-free-memory", "warning", "startup_mb",
            f"The host has about {format_mb(free)} free; the VM may not start with "
            f"{format_mb(wanted)} until more memory is free",
        )]
    return []


def field_states(vm: VmSnapshot, dynamic: bool | None = None) -> dict[str, FieldState]:
    """Which settings the Memory page may offer for editing in the VM's state.

    Args:
        vm: the VM as last read.
        dynamic: the Dynamic Memory flag the page shows now (an Off VM's pending toggle);
            the VM's own flag when None.

    Returns:
        A `FieldState` for every name in `SETTING_FIELDS`; a disabled one names the rule
        that disables it and says what to do.
    """
    if is_read_only_state(vm):
        off = FieldState(False, _read_only_text(vm), "state-readonly")
        return {name: off for name in SETTING_FIELDS}
    if vm.is_running:
        return _running_field_states(vm)

    shown_dynamic = vm.memory.dynamic if dynamic is None else dynamic
    dm_off = FieldState(False, "Applies only with Dynamic Memory; turn Dynamic Memory on "
                               "to set it", "dm-required")
    dm_field = FieldState(True) if shown_dynamic else dm_off
    return {
        "startup_mb": FieldState(True),
        "dynamic": FieldState(True),
        "minimum_mb": dm_field,
        "maximum_mb": dm_field,
        "buffer_percent": dm_field,
        "weight": FieldState(True),
    }


def _running_field_states(vm: VmSnapshot) -> dict[str, FieldState]:
    now = vm.memory
    toggle = FieldState(False, TOGGLE_WHILE_RUNNING, "running-dm-toggle")
    if now.dynamic:
        return {
            "startup_mb": FieldState(
                False, "Startup RAM cannot change while the VM runs with Dynamic Memory; "
                       "shut the VM down to change it", "running-dm-startup"),
            "dynamic": toggle,
            "minimum_mb": FieldState(
                True, "Can only be lowered while the VM runs (now "
                      f"{format_mb(now.minimum_mb)}); shut it down to raise it",
                "running-dm-min-raise"),
            "maximum_mb": FieldState(
                True, "Can only be raised while the VM runs (now "
                      f"{format_mb(now.maximum_mb)}); shut it down to lower it",
                "running-dm-max-lower"),
            "buffer_percent": FieldState(True),
            "weight": FieldState(True),
        }

    blockers = _runtime_resize_blockers(vm)
    startup = (FieldState(False, blockers[0][1], blockers[0][0]) if blockers
               else FieldState(True))
    dm_off = FieldState(False, "Applies only with Dynamic Memory, which can be turned on "
                               "only while the VM is off; shut it down first",
                        "dm-required")
    return {
        "startup_mb": startup,
        "dynamic": toggle,
        "minimum_mb": dm_off,
        "maximum_mb": dm_off,
        "buffer_percent": dm_off,
        "weight": FieldState(False, STATIC_WEIGHT_WHILE_RUNNING, "state-readonly"),
    }
