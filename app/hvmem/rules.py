"""The client's memory rules: which edits Hyper-V will take in a VM's state, and why not.

`check` judges one edit the way one Set-VMMemory call is judged: the final combination
of settings counts, not the order in which fields were typed. Every finding carries a rule
id shared with the simulator (which implements the same rules independently), the field
it is about and a sentence that says what to do. Errors block sending; warnings (host free
memory, guest use) are advice only, since only the host knows what it will really do.

`field_states` tells the Memory page which fields it may offer in the VM's state.

Where the reference leaves a fact unconfirmed, these rules take the safer side: Minimum
and Maximum must be 2 MB aligned like Startup; any state other than Off and Running is
read-only; a configuration version hvmem cannot read does not allow a runtime resize.
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
    """Whether the Memory page may offer a field for editing, and the reason if not."""

    enabled: bool
    reason: str = ""


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

    findings = _value_findings(vm, change)
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


def _read_only_text(vm: VmSnapshot) -> str:
    return (
        f"The VM is {vm.state}; Hyper-V changes no memory setting in this state. "
        "Start it or shut it down first."
    )


def _value_findings(vm: VmSnapshot, change: MemoryChange) -> list[Finding]:
    """Rules on each value the user typed, whatever else changed with it."""
    findings: list[Finding] = []
    bound = max_bound_mb(vm)
    for name in SIZE_FIELDS:
        value = getattr(change, name)
        if value is None:
            continue
        label = LABELS[name]
        if value % 2:
            findings.append(_error(
                "align-2mb", name,
                f"{label} must be a multiple of 2 MB ({value - 1} or {value + 1})",
            ))
        if value < LOWEST_MB:
            findings.append(_error(
                "min-32mb", name, f"{label} must be at least {LOWEST_MB} MB",
            ))
        if value > bound:
            findings.append(_error(
                "max-bound", name,
                f"{label} can be at most {format_mb(bound)} for a generation "
                f"{vm.generation} VM with configuration version {vm.version or '?'}",
            ))

    if change.buffer_percent is not None and not (
        BUFFER_RANGE[0] <= change.buffer_percent <= BUFFER_RANGE[1]
    ):
        findings.append(_error(
            "buffer-range", "buffer_percent",
            f"Buffer must be between {BUFFER_RANGE[0]} and {BUFFER_RANGE[1]} %",
        ))
    weight = change.weight
    if weight is not None and not WEIGHT_RANGE[0] <= weight <= WEIGHT_RANGE[1]:
        findings.append(_error(
            "weight-range", "weight",
            f"Memory weight must be between {WEIGHT_RANGE[0]} and {WEIGHT_RANGE[1]}",
        ))

    dm_only = [name for name in ("minimum_mb", "maximum_mb", "buffer_percent")
               if getattr(change, name) is not None]
    final_dynamic = vm.memory.dynamic if change.dynamic is None else change.dynamic
    for name in dm_only if not final_dynamic else []:
        findings.append(_error(
            "dm-required", name,
            f"{LABELS[name]} applies only with Dynamic Memory; turn Dynamic Memory on "
            "in the same change, or leave it as it is",
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
            f"({format_mb(final.startup_mb)})",
        ))
    if final.startup_mb > final.maximum_mb:
        field = "maximum_mb" if "maximum_mb" in changed else "startup_mb"
        findings.append(_error(
            "order-startup-max", field,
            f"Maximum RAM ({format_mb(final.maximum_mb)}) must be at least Startup RAM "
            f"({format_mb(final.startup_mb)})",
        ))
    if vm.gpu_partition and final.startup_mb != final.minimum_mb:
        field = "minimum_mb" if "minimum_mb" in changed else "startup_mb"
        findings.append(_error(
            "gpu-startup-min", field,
            "With a GPU partition and Dynamic Memory, Minimum RAM must equal Startup RAM "
            f"(now {format_mb(final.minimum_mb)} and {format_mb(final.startup_mb)})",
        ))
    return findings


def _running_findings(vm: VmSnapshot, change: MemoryChange) -> list[Finding]:
    """What Hyper-V refuses while the VM runs."""
    findings = []
    now = vm.memory
    if change.dynamic is not None:
        findings.append(_error(
            "running-dm-toggle", "dynamic",
            "Shut down the VM to turn Dynamic Memory on or off",
        ))

    if now.dynamic:
        if change.startup_mb is not None:
            findings.append(_error(
                "running-dm-startup", "startup_mb",
                "While the VM runs with Dynamic Memory, Startup RAM cannot change "
                f"(now {format_mb(now.startup_mb)}); shut it down first",
            ))
        if change.minimum_mb is not None and change.minimum_mb > now.minimum_mb:
            findings.append(_error(
                "running-dm-min-raise", "minimum_mb",
                "While the VM runs, Minimum RAM can only be lowered "
                f"(now {format_mb(now.minimum_mb)})",
            ))
        if change.maximum_mb is not None and change.maximum_mb < now.maximum_mb:
            findings.append(_error(
                "running-dm-max-lower", "maximum_mb",
                "While the VM runs, Maximum RAM can only be raised "
                f"(now {format_mb(now.maximum_mb)})",
            ))
    elif change.startup_mb is not None:
        reason = _runtime_resize_blocker(vm)
        if reason is not None:
            findings.append(_error(reason[0], "startup_mb", reason[1]))
    return findings


def _runtime_resize_blocker(vm: VmSnapshot) -> tuple[str, str] | None:
    """Why a running static VM cannot be resized, as (rule, message), or None."""
    version = parse_version(vm.version)
    if version is None or version < RUNTIME_RESIZE_VERSION:
        shown = f"Configuration version {vm.version}" if vm.version else (
            "An unknown configuration version")
        return ("runtime-resize-version",
                f"{shown} is too old to resize memory while the VM runs "
                "(6.2 or later needed); shut the VM down to change Startup RAM")
    if vm.nested_virtualization:
        return ("runtime-resize-nested",
                "Memory cannot be resized while the VM runs with nested virtualization; "
                "shut the VM down to change Startup RAM")
    return None


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
            return [Finding(
                "host-free-memory", "warning", "startup_mb",
                f"The host has about {format_mb(free)} free; Hyper-V is likely to add "
                f"only about {format_mb(free_even)}, leaving the VM with about "
                f"{format_mb(vm.assigned_mb + free_even)} of {format_mb(wanted)}",
            )]
        if wanted < vm.assigned_mb and wanted < vm.demand_mb:
            return [Finding(
                "guest-in-use", "warning", "startup_mb",
                f"The guest is using about {format_mb(vm.demand_mb)}; Hyper-V can only "
                "remove what it does not use, so the VM may keep more than "
                f"{format_mb(wanted)}",
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
        A `FieldState` for every name in `SETTING_FIELDS`.
    """
    if is_read_only_state(vm):
        off = FieldState(False, _read_only_text(vm))
        return {name: off for name in SETTING_FIELDS}
    if vm.is_running:
        return _running_field_states(vm)

    shown_dynamic = vm.memory.dynamic if dynamic is None else dynamic
    dm_off = FieldState(False, "Applies only with Dynamic Memory on")
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
    toggle = FieldState(False, "Shut down the VM to turn Dynamic Memory on or off")
    if now.dynamic:
        return {
            "startup_mb": FieldState(
                False, "Startup RAM cannot change while the VM runs with Dynamic Memory"),
            "dynamic": toggle,
            "minimum_mb": FieldState(
                True, f"Can only be lowered while the VM runs (now "
                      f"{format_mb(now.minimum_mb)})"),
            "maximum_mb": FieldState(
                True, f"Can only be raised while the VM runs (now "
                      f"{format_mb(now.maximum_mb)})"),
            "buffer_percent": FieldState(True),
            "weight": FieldState(True),
        }

    blocker = _runtime_resize_blocker(vm)
    dm_off = FieldState(False, "Applies only with Dynamic Memory on")
    return {
        "startup_mb": FieldState(blocker is None, blocker[1] if blocker else ""),
        "dynamic": toggle,
        "minimum_mb": dm_off,
        "maximum_mb": dm_off,
        "buffer_percent": dm_off,
        "weight": FieldState(True),
    }
