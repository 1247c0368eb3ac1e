"""Plain data that every layer shares: a host, its VMs and their memory settings.

Memory is held in whole MB as Python ints (which never overflow), because that is the unit
Hyper-V stores and the Memory page shows. Bytes appear only on the wire, where Hyper-V's own
cmdlets speak them; `mb_to_bytes` and `bytes_to_mb` are the only conversions.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

MIB = 1024 * 1024

# The memory settings a client sends back as "what I last saw" with every change, so that the
# agent can refuse with a conflict when another admin changed them meanwhile. Assigned memory
# and demand move on their own and are deliberately not part of it.
SETTING_FIELDS = (
    "startup_mb",
    "dynamic",
    "minimum_mb",
    "maximum_mb",
    "buffer_percent",
    "weight",
)


def mb_to_bytes(mb: int) -> int:
    """Whole MB to bytes, exactly (no float on the way)."""
    return int(mb) * MIB


def bytes_to_mb(value: int) -> int:
    """Bytes to whole MB, truncating as Set-VMMemory itself does."""
    return int(value) // MIB


@dataclass(frozen=True)
class MemorySettings:
    """A VM's configured memory, as the Memory page shows it."""

    startup_mb: int
    dynamic: bool
    minimum_mb: int
    maximum_mb: int
    buffer_percent: int
    weight: int

    def with_change(self, change: MemoryChange) -> MemorySettings:
        """These settings with `change` laid over them."""
        return replace(self, **change.as_dict())

    def diff(self, other: MemorySettings) -> MemoryChange:
        """The change that turns these settings into `other` (only differing fields)."""
        values = {
            name: getattr(other, name)
            for name in SETTING_FIELDS
            if getattr(other, name) != getattr(self, name)
        }
        return MemoryChange(**values)


@dataclass(frozen=True)
class MemoryChange:
    """Only the settings an edit changes; None means "leave as it is"."""

    startup_mb: int | None = None
    dynamic: bool | None = None
    minimum_mb: int | None = None
    maximum_mb: int | None = None
    buffer_percent: int | None = None
    weight: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """The fields that are set, by name."""
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if getattr(self, f.name) is not None
        }

    def is_empty(self) -> bool:
        return not self.as_dict()

    def names(self) -> list[str]:
        return list(self.as_dict())


@dataclass(frozen=True)
class VmSnapshot:
    """One VM as the host reported it at one moment.

    `state` is the name Get-VM gives (Running, Off, Saved, ...); `status` and
    `memory_status` are display texts in the host's language and never drive logic.
    """

    id: str
    name: str
    state: str
    generation: int
    version: str
    memory: MemorySettings
    assigned_mb: int
    demand_mb: int
    memory_status: str
    cpu_percent: int
    uptime_s: int
    status: str
    nested_virtualization: bool = False
    gpu_partition: bool = False

    @property
    def is_running(self) -> bool:
        return self.state == "Running"


@dataclass(frozen=True)
class HostSnapshot:
    """A host's memory figures at one moment, in MB."""

    name: str
    total_mb: int
    available_mb: int
    locale: str = ""

    @property
    def held_by_vms_mb(self) -> int:
        """What the host's memory minus the free part leaves: VMs plus the host's own use."""
        return max(self.total_mb - self.available_mb, 0)


@dataclass(frozen=True)
class Inventory:
    """Everything one `list` answer carries."""

    host: HostSnapshot
    vms: tuple[VmSnapshot, ...]

    def vm(self, vm_id: str) -> VmSnapshot | None:
        wanted = vm_id.lower()
        return next((vm for vm in self.vms if vm.id.lower() == wanted), None)


@dataclass(frozen=True)
class HelloInfo:
    """What the agent says about itself and the account it runs as."""

    agent_version: str
    protocol: int
    host_name: str
    ps_version: str
    os_version: str
    simulated: bool
    is_admin: bool
    hyperv_admin: bool
