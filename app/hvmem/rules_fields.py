"""What a VM's state lets the Memory page edit, field by field, and why not.

`field_states` tells the Memory page which fields it may offer in the VM's state. The
state facts behind it are shared with the edit check in `hvmem.rules` (which re-exports
`FieldState` and `field_states`): which states are read-only and what to do about them,
what stops a running static VM from being resized, and the sentences for what a running
VM refuses. The safer readings of unconfirmed facts are the ones docs/rules.md lists.
"""

from __future__ import annotations

from dataclasses import dataclass

from hvmem.model import SETTING_FIELDS, VmSnapshot
from hvmem.units import format_mb

RUNTIME_RESIZE_VERSION = (6, 2)


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


def is_read_only_state(vm: VmSnapshot) -> bool:
    """True when no memory setting may change (Saved, Paused, transitional, unknown)."""
    return vm.state not in ("Off", "Running")


# Read-only states, by what the user can do about them.
_SAVED_STATES = ("Saved", "FastSaved", "Hibernated")
_PAUSED_STATES = ("Paused",)


def read_only_text(vm: VmSnapshot) -> str:
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


TOGGLE_WHILE_RUNNING = "Shut down the VM to turn Dynamic Memory on or off"
# The reference leaves the weight of a running static VM unconfirmed; the state
# matrix (startup only) is the safer reading, and the simulator takes it too.
STATIC_WEIGHT_WHILE_RUNNING = (
    "While the VM runs with static memory, its memory weight cannot change; shut the "
    "VM down to change it")


def runtime_resize_blockers(vm: VmSnapshot) -> list[tuple[str, str]]:
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
        off = FieldState(False, read_only_text(vm), "state-readonly")
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

    blockers = runtime_resize_blockers(vm)
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
