"""The simulated host's own memory rules: what Hyper-V accepts, by state, as rule ids.

Written from the reference notes alone (hyperv-memory.md §2, §3, §6) and deliberately
independent of the client's `hvmem.rules`; only the rule ids are shared, by name, so a
property test can compare the two. Everything here is pure: facts about a VM and the
settings a call would leave it with go in, refusals come out.

One `Set-VMMemory` call writes all its settings in one modify operation, so only the final
combination is judged, never an intermediate order of fields.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from hvmem.model import MemorySettings

ALIGN_MB = 2
FLOOR_MB = 32
BUFFER_RANGE = (5, 2000)
WEIGHT_RANGE = (0, 100)
RUNTIME_RESIZE_MIN_VERSION = (6, 2)

BOUND_LEGACY_MB = 1_048_576  # 1 TB: generation 1, or configuration version below 8.0
BOUND_LARGE_MB = 12_582_912  # 12 TB: configuration 8.0 up to 9.1
BOUND_HUGE_MB = 251_658_240  # 240 TB: configuration above 9.1

# Get-VM state names with the numbers this module build gives them (reference §1.3).
# Critical variants follow the newest numbering seen; hvmem reads states by name anyway.
STATE_VALUES: dict[str, int] = {
    "Other": 1, "Running": 2, "Off": 3, "Stopping": 4, "Saved": 6, "Paused": 9,
    "Starting": 10, "Reset": 11, "Saving": 32773, "Pausing": 32776, "Resuming": 32777,
    "FastSaved": 32779, "FastSaving": 32780, "ForceShutdown": 32781,
    "ForceReboot": 32782, "Hibernated": 32783, "ComponentServicing": 32784,
    "RunningCritical": 32785, "OffCritical": 32786, "StoppingCritical": 32787,
    "SavedCritical": 32788, "PausedCritical": 32789, "StartingCritical": 32790,
    "ResetCritical": 32791, "SavingCritical": 32792, "PausingCritical": 32793,
    "ResumingCritical": 32794, "FastSavedCritical": 32795, "FastSavingCritical": 32796,
}

# States in which the VM's memory is not held in host RAM (assigned memory reads 0).
STATES_WITHOUT_MEMORY = frozenset({
    "Other", "Off", "Saved", "Hibernated", "OffCritical", "SavedCritical",
})

# Rule ids decided by the values alone (the server's InvalidParameter family).
VALUE_RULES = ("align-2mb", "min-32mb", "max-bound", "order-min-startup",
               "order-startup-max", "buffer-range", "weight-range", "gpu-startup-min")
# Rule ids decided by the VM's state (InvalidState / NotSupported family).
STATE_RULES = ("state-readonly", "running-dm-toggle", "running-dm-startup",
               "running-dm-min-raise", "running-dm-max-lower", "runtime-resize-version",
               "runtime-resize-nested")
# Decided by the cmdlet before the server is asked.
CMDLET_RULES = ("dm-required",)
# Outcomes only the host knows while it resizes a running static VM.
HOST_RULES = ("guest-no-hot-add", "guest-no-hot-remove", "host-free-memory",
              "guest-in-use")
ALL_RULES = CMDLET_RULES + STATE_RULES + VALUE_RULES + HOST_RULES

_DM_ONLY_FIELDS = ("minimum_mb", "maximum_mb", "buffer_percent")


@dataclass(frozen=True)
class VmFacts:
    """What the rules need to know about a VM besides its memory settings."""

    name: str
    state: str
    generation: int
    version: str
    nested_virtualization: bool = False
    gpu_partition: bool = False


@dataclass(frozen=True)
class Refusal:
    """One rule a change breaks.

    Attributes:
        rule: the rule id, shared by name with the client's rules.
        setting: the MemorySettings field concerned, or "" for the whole change.
        value: the offending value (MB, percent, weight), or None.
        limit: the bound it broke (MB or percent), or None.
    """

    rule: str
    setting: str = ""
    value: int | None = None
    limit: int | None = None


def parse_version(version: str) -> tuple[int, int]:
    """"9.0" -> (9, 0); anything unreadable counts as the oldest version (0, 0)."""
    parts = version.strip().split(".")
    try:
        major = int(parts[0])
        minor = int(parts[1]) if len(parts) > 1 else 0
    except ValueError:
        return (0, 0)
    return (major, minor)


def upper_bound_mb(generation: int, version: str) -> int:
    """The largest memory value the VM's generation and configuration version allow."""
    parsed = parse_version(version)
    if generation == 1 or parsed < (8, 0):
        return BOUND_LEGACY_MB
    if parsed <= (9, 1):
        return BOUND_LARGE_MB
    return BOUND_HUGE_MB


def holds_memory(state: str) -> bool:
    """Whether a VM in `state` keeps its assigned memory in host RAM."""
    return state not in STATES_WITHOUT_MEMORY


def changed_fields(current: MemorySettings, final: MemorySettings) -> list[str]:
    """Names of the settings whose final value differs from the current one."""
    return [f.name for f in fields(MemorySettings)
            if getattr(current, f.name) != getattr(final, f.name)]


def check_change(
    vm: VmFacts, current: MemorySettings, given: set[str], final: MemorySettings
) -> list[Refusal]:
    """Every rule the change breaks, cmdlet checks first, then state, then values.

    Args:
        vm: the VM's state and capabilities.
        current: its settings before the call.
        given: names of the settings the call passes (even if unchanged).
        final: the settings the call would leave.

    Returns:
        The refusals in a stable order; empty when Hyper-V would accept the change.
    """
    refusals = [Refusal("dm-required", name) for name in _DM_ONLY_FIELDS
                if name in given and not final.dynamic]
    refusals += check_state(vm, current, given, final)
    refusals += check_values(vm, final)
    return refusals


def check_state(
    vm: VmFacts, current: MemorySettings, given: set[str], final: MemorySettings
) -> list[Refusal]:
    """The state matrix (§2.6): Off takes everything, Running some things, others none.

    A running static VM takes Startup only; a running DM VM a higher Maximum, a lower
    Minimum, the buffer and the weight.
    """
    if vm.state == "Off":
        return []
    if vm.state != "Running":
        return [Refusal("state-readonly")] if given else []

    # Every broken rule is reported: a refused toggle does not hide what the rest of the
    # change would break in the mode the VM keeps running in.
    changed = changed_fields(current, final)
    refusals = []
    if "dynamic" in changed:
        refusals.append(Refusal("running-dm-toggle", "dynamic", int(final.dynamic)))
    if current.dynamic:
        return refusals + _check_running_dynamic(current, final, changed)
    return refusals + _check_running_static(vm, final, changed)


def _check_running_dynamic(
    current: MemorySettings, final: MemorySettings, changed: list[str]
) -> list[Refusal]:
    refusals = []
    if "startup_mb" in changed:
        refusals.append(Refusal("running-dm-startup", "startup_mb", final.startup_mb))
    if final.minimum_mb > current.minimum_mb:
        refusals.append(Refusal("running-dm-min-raise", "minimum_mb", final.minimum_mb,
                                current.minimum_mb))
    if final.maximum_mb < current.maximum_mb:
        refusals.append(Refusal("running-dm-max-lower", "maximum_mb", final.maximum_mb,
                                current.maximum_mb))
    return refusals


def _check_running_static(
    vm: VmFacts, final: MemorySettings, changed: list[str]
) -> list[Refusal]:
    refusals = []
    # Only Startup may move on a running static VM; the weight is taken as read-only
    # there too (unverified on a real host, the safer reading).
    others = [name for name in changed if name not in ("startup_mb", "dynamic")]
    for name in others:
        if name not in _DM_ONLY_FIELDS:  # min/max/buffer already refused as dm-required
            refusals.append(Refusal("state-readonly", name, getattr(final, name)))
    if "startup_mb" in changed:
        if parse_version(vm.version) < RUNTIME_RESIZE_MIN_VERSION:
            refusals.append(Refusal("runtime-resize-version", "startup_mb",
                                    final.startup_mb))
        if vm.nested_virtualization:
            refusals.append(Refusal("runtime-resize-nested", "startup_mb",
                                    final.startup_mb))
    return refusals


def check_values(vm: VmFacts, final: MemorySettings) -> list[Refusal]:
    """Alignment, bounds, order, buffer and weight of the final settings."""
    sizes = ["startup_mb"]
    if final.dynamic:
        sizes += ["minimum_mb", "maximum_mb"]
    bound = upper_bound_mb(vm.generation, vm.version)
    refusals = []
    for name in sizes:
        value = getattr(final, name)
        if value % ALIGN_MB:
            refusals.append(Refusal("align-2mb", name, value, ALIGN_MB))
        if value < FLOOR_MB:
            refusals.append(Refusal("min-32mb", name, value, FLOOR_MB))
        if value > bound:
            refusals.append(Refusal("max-bound", name, value, bound))

    if final.dynamic:
        refusals += _check_dynamic_values(vm, final)
    if not WEIGHT_RANGE[0] <= final.weight <= WEIGHT_RANGE[1]:
        refusals.append(Refusal("weight-range", "weight", final.weight))
    return refusals


def _check_dynamic_values(vm: VmFacts, final: MemorySettings) -> list[Refusal]:
    refusals = []
    if final.minimum_mb > final.startup_mb:
        refusals.append(Refusal("order-min-startup", "minimum_mb", final.minimum_mb,
                                final.startup_mb))
    if final.startup_mb > final.maximum_mb:
        refusals.append(Refusal("order-startup-max", "maximum_mb", final.maximum_mb,
                                final.startup_mb))
    if not BUFFER_RANGE[0] <= final.buffer_percent <= BUFFER_RANGE[1]:
        refusals.append(Refusal("buffer-range", "buffer_percent", final.buffer_percent))
    if vm.gpu_partition and final.startup_mb != final.minimum_mb:
        refusals.append(Refusal("gpu-startup-min", "minimum_mb", final.minimum_mb,
                                final.startup_mb))
    return refusals


def floor_to_alignment(mb: int) -> int:
    """`mb` rounded down to the 2 MB granularity Hyper-V adds and removes memory in."""
    return max(mb, 0) // ALIGN_MB * ALIGN_MB


def ceil_to_alignment(mb: int) -> int:
    """`mb` rounded up to the 2 MB granularity."""
    return -(-max(mb, 0) // ALIGN_MB) * ALIGN_MB
