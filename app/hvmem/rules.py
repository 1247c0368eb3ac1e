"""The client's memory rules: which edits Hyper-V will take in a VM's state, and why not.

`check` judges one edit the way one Set-VMMemory call is judged: the final combination
of settings counts, not the order in which fields were typed. Every finding carries a rule
id shared with the simulator (which implements the same rules independently), the field
it is about and a sentence that says what to do. Errors block sending; warnings (host free
memory, guest use) are advice only, since only the host knows what it will really do.

`field_states` and `FieldState` (which fields the Memory page may offer in the VM's
state) live in `hvmem.rules_fields`, with the state facts both share: read-only states,
runtime-resize blockers, what a running VM refuses. They are re-exported here, so callers
import every rule from `hvmem.rules`.

Where the reference leaves a fact unconfirmed, these rules take the safer side: Minimum
and Maximum must be 2 MB aligned like Startup; any state other than Off and Running is
read-only; a configuration version hvmem cannot read does not allow a runtime resize; a
running static VM takes a new Startup RAM only, not a new weight. docs/rules.md lists
every rule id and these choices.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hvmem.model import HostSnapshot, MemoryChange, MemorySettings, VmSnapshot
from hvmem.rules_fields import (
    RUNTIME_RESIZE_VERSION,
    STATIC_WEIGHT_WHILE_RUNNING,
    TOGGLE_WHILE_RUNNING,
    FieldState,
    field_states,
    is_read_only_state,
    parse_version,
    read_only_text,
    runtime_resize_blockers,
)
from hvmem.units import format_mb

# Re-exported: callers take the whole rule vocabulary from this module.
__all__ = [
    "BUFFER_RANGE", "LABELS", "LOWEST_MB", "ONE_TB_MB", "RUNTIME_RESIZE_VERSION",
    "SIZE_FIELDS", "STATIC_WEIGHT_WHILE_RUNNING", "TOGGLE_WHILE_RUNNING",
    "TWELVE_TB_MB", "TWO_FORTY_TB_MB", "WEIGHT_RANGE", "FieldState", "Finding",
    "Severity", "check", "effective_change", "field_states", "is_read_only_state",
    "is_runtime_resize", "max_bound_mb", "parse_version",
]

Severity = Literal["error", "warning"]

SIZE_FIELDS = ("startup_mb", "minimum_mb", "maximum_mb")
LOWEST_MB = 32
BUFFER_RANGE = (5, 2000)
WEIGHT_RANGE = (0, 100)
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


def max_bound_mb(vm: VmSnapshot) -> int:
    """The largest memory size Hyper-V allows for the VM's generation and version."""
    version = parse_version(vm.version)
    if vm.generation == 1 or version is None or version < (8, 0):
        return ONE_TB_MB
    if version <= (9, 1):
        return TWELVE_TB_MB
    return TWO_FORTY_TB_MB


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
        findings.insert(0, _error("state-readonly", None, read_only_text(vm)))
    elif vm.is_running:
        findings += _running_findings(vm, change)

    if host is not None and not any(f.is_error for f in findings):
        findings += _host_warnings(vm, change, host)
    return findings


def _error(rule: str, field: str | None, message: str) -> Finding:
    return Finding(rule, "error", field, message)


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
                     for rule, message in runtime_resize_blockers(vm)]
    return findings


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
