"""The simulated Hyper-V host: its memory, its VMs, a steppable clock, memory changes and
power actions (start, shut down, turn off, save).

`SimHost` is thread-safe through one re-entrant lock (`SimHost.lock`), which the WinRM
server's threads and the agent share; a caller that must check and change in one step (the
agent's conflict guard) holds it across both. Memory is kept in whole MB; bytes appear
only in the wire records (`vm_record`, `host_record`).

The host's available memory is its total minus a fixed reserve for the parent partition
minus what every VM that holds memory (running, paused, in transition) has assigned.
A VM starts only if its startup memory (a saved VM: the memory it was saved with) fits.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from hvmem.model import MemorySettings, mb_to_bytes
from hvmem.sim import living
from hvmem.sim.messages import Texts
from hvmem.sim.records import Shortfall
from hvmem.sim.rules import (
    STATE_VALUES,
    ceil_to_alignment,
    Refusal,
    VmFacts,
    check_change,
    floor_to_alignment,
    holds_memory,
)


@dataclass
class GuestInfo:
    """What runs inside a VM, as far as memory goes."""

    os: str
    hot_add: bool
    hot_remove: bool
    in_use_mb: int


@dataclass
class SimVm:
    """One simulated VM. Mutated only under the host's lock."""

    id: str
    name: str
    state: str
    generation: int
    version: str
    settings: MemorySettings
    guest: GuestInfo
    assigned_mb: int = 0
    demand_mb: int = 0
    uptime_s: float = 0.0
    cpu_percent: int = 0
    status: str = ""  # empty: the host's "operating normally" text
    nested_virtualization: bool = False
    gpu_partition: bool = False
    saved_mb: int = 0  # the memory a Saved VM restores; 0: unknown, its Startup

    @property
    def facts(self) -> VmFacts:
        return VmFacts(self.name, self.state, self.generation, self.version,
                       self.nested_virtualization, self.gpu_partition)

    @property
    def holds_memory(self) -> bool:
        return holds_memory(self.state)


@dataclass(frozen=True)
class SetOutcome:
    """What one memory change did.

    Attributes:
        refusals: the rules the change broke; when any, nothing was changed.
        shortfall: a runtime resize that stopped short; the rest was applied.
        vm: the VM afterwards, as a wire record.
    """

    refusals: list[Refusal] = field(default_factory=list)
    shortfall: Shortfall | None = None
    vm: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.refusals and self.shortfall is None


@dataclass(frozen=True)
class PowerOutcome:
    """What one power action did.

    Attributes:
        vm: the VM afterwards, as a wire record.
        wrong_state: the state that does not allow the action ("" when it did).
        needed_mb: for a start that failed for lack of memory, what it needed (else 0).
    """

    vm: dict[str, Any]
    wrong_state: str = ""
    needed_mb: int = 0

    @property
    def ok(self) -> bool:
        return not self.wrong_state and not self.needed_mb


# The states each power action starts from. Start on a paused VM resumes it; shut down,
# turn off and save take a paused VM as they take a running one (see docs/simulator.md).
POWER_FROM: dict[str, tuple[str, ...]] = {
    "start_vm": ("Off", "Saved", "Paused"),
    "stop_vm": ("Running", "Paused"),
    "turn_off_vm": ("Running", "Paused"),
    "save_vm": ("Running", "Paused"),
}
# A freshly booted guest's use: a quarter of its memory, at least this much.
BOOT_USE_MIN_MB = 64


class VmNotFound(LookupError):
    """No VM with the id asked for."""


class SimHost:
    """A simulated host with its VMs; every public method takes the lock."""

    def __init__(self, name: str, total_mb: int, reserve_mb: int, locale: str,
                 vms: list[SimVm], *, texts: Mapping[str, str] | None = None,
                 seed: int = 0) -> None:
        self.name = name
        self.total_mb = total_mb
        self.reserve_mb = reserve_mb
        self.locale = locale
        self.texts = Texts(locale, texts)
        self.seed = seed
        self.clock_s = 0.0
        self.lock = threading.RLock()
        # The living model is off unless asked for, so figures stay put in tests.
        self.living = False
        self.drift_percent_per_minute = living.DRIFT_PERCENT_PER_MINUTE
        self._wall_clock: Callable[[], float] | None = None
        self._wall_seen = 0.0
        self._vms = list(vms)
        self._random = living.make_random(seed)

    def vms(self) -> list[SimVm]:
        """The VMs in listing order (the objects themselves; hold the lock to mutate)."""
        with self.lock:
            return list(self._vms)

    def find(self, vm_id: str) -> SimVm:
        """The VM with this id (case-insensitive). Raises VmNotFound."""
        wanted = vm_id.strip().lower()
        with self.lock:
            for vm in self._vms:
                if vm.id == wanted:
                    return vm
        raise VmNotFound(vm_id)

    def available_mb(self) -> int:
        """Memory free for VMs to start or grow: total − reserve − held, never below 0."""
        with self.lock:
            held = sum(vm.assigned_mb for vm in self._vms if vm.holds_memory)
            return max(self.total_mb - self.reserve_mb - held, 0)

    def advance(self, seconds: float) -> None:
        """Move the clock on: uptimes grow; with `living` on, memory follows demand."""
        if seconds < 0:
            raise ValueError(f"time runs forward only, not by {seconds}")
        with self.lock:
            self.clock_s += seconds
            for vm in self._vms:
                if vm.state == "Running":
                    vm.uptime_s += seconds
            # Long jumps are taken in short steps, so a jump of an hour and 360 steps of
            # ten seconds tell the same story for the same seed.
            remaining = seconds if self.living else 0.0
            while remaining > 0:
                chunk = min(remaining, living.STEP_SECONDS)
                living.step(self, chunk, self._random)
                remaining -= chunk

    def follow_wall_clock(self, clock: Callable[[], float]) -> None:
        """From now on, `catch_up` advances by what `clock` (seconds) says has passed.

        The demo passes time.monotonic, so uptimes and the living model move in real
        time; tests pass a counter of their own, or leave it off and call `advance`.
        """
        with self.lock:
            self._wall_clock = clock
            self._wall_seen = clock()

    def catch_up(self) -> None:
        """Advance by the wall-clock time since the last catch-up (if following one)."""
        with self.lock:
            if self._wall_clock is None:
                return
            now = self._wall_clock()
            elapsed, self._wall_seen = now - self._wall_seen, now
            if elapsed > 0:
                self.advance(elapsed)

    def host_record(self) -> dict[str, Any]:
        with self.lock:
            return {
                "name": self.name,
                "total_bytes": mb_to_bytes(self.total_mb),
                "available_bytes": mb_to_bytes(self.available_mb()),
                "locale": self.locale,
            }

    def vm_record(self, vm: SimVm) -> dict[str, Any]:
        """One VM as the agent reports it (memory in bytes, state by name and number)."""
        with self.lock:
            held = vm.holds_memory
            active = vm.state == "Running"
            settings = vm.settings
            return {
                "id": vm.id,
                "name": vm.name,
                "state": vm.state,
                "state_value": STATE_VALUES[vm.state],
                "status": vm.status or self.texts.get("status.normal"),
                "generation": vm.generation,
                "version": vm.version,
                "uptime_s": int(vm.uptime_s) if held else 0,
                "cpu_percent": vm.cpu_percent if active else 0,
                "dynamic_memory": settings.dynamic,
                "startup_bytes": mb_to_bytes(settings.startup_mb),
                "minimum_bytes": mb_to_bytes(settings.minimum_mb),
                "maximum_bytes": mb_to_bytes(settings.maximum_mb),
                "buffer_percent": settings.buffer_percent,
                "weight": settings.weight,
                "assigned_bytes": mb_to_bytes(vm.assigned_mb if held else 0),
                "demand_bytes": mb_to_bytes(vm.demand_mb if held else 0),
                "memory_status": self._memory_status_text(vm),
                "nested_virtualization": vm.nested_virtualization,
                "gpu_partition": vm.gpu_partition,
            }

    def list_records(self) -> dict[str, Any]:
        with self.lock:
            return {"host": self.host_record(),
                    "vms": [self.vm_record(vm) for vm in self._vms]}

    def set_memory(self, vm_id: str, given: Mapping[str, Any]) -> SetOutcome:
        """Apply settings (MemorySettings field names, MB) as one Set-VMMemory call.

        The final combination is judged as a whole; any refusal leaves the VM untouched.
        A running static VM is resized at once, as far as host and guest allow.

        Raises:
            VmNotFound: no VM has this id.
        """
        with self.lock:
            vm = self.find(vm_id)
            current = vm.settings
            final = replace(current, **dict(given))
            refusals = check_change(vm.facts, current, set(given), final)
            if refusals:
                return SetOutcome(refusals=refusals, vm=self.vm_record(vm))

            shortfall = None
            if vm.state == "Running" and not current.dynamic:
                shortfall = self._resize(vm, final.startup_mb)
                final = replace(final, startup_mb=vm.assigned_mb)
            vm.settings = final
            if vm.state == "Running" and final.dynamic:
                vm.assigned_mb = min(max(vm.assigned_mb, final.minimum_mb),
                                     final.maximum_mb)
            return SetOutcome(shortfall=shortfall, vm=self.vm_record(vm))

    def power(self, vm_id: str, op: str) -> PowerOutcome:
        """Run a power action (a `POWER_FROM` key) on a VM, as Start-VM, Stop-VM or
        Save-VM would.

        Raises:
            VmNotFound: no VM has this id.
            KeyError: `op` is not a power action.
        """
        with self.lock:
            vm = self.find(vm_id)
            if vm.state not in POWER_FROM[op]:
                return PowerOutcome(self.vm_record(vm), wrong_state=vm.state)
            if op == "start_vm":
                return self._start(vm)

            if op == "save_vm":
                vm.saved_mb = vm.assigned_mb
            else:
                # The guest's memory is gone; the next boot starts from nothing.
                vm.guest.in_use_mb = 0
                vm.saved_mb = 0
            vm.state = "Saved" if op == "save_vm" else "Off"
            vm.assigned_mb = vm.demand_mb = vm.cpu_percent = 0
            vm.uptime_s = 0.0
            return PowerOutcome(self.vm_record(vm))

    def start_need_mb(self, vm: SimVm) -> int:
        """The free memory `vm` needs to start: its Startup, or what it was saved with."""
        with self.lock:
            if vm.state == "Saved" and vm.saved_mb:
                return vm.saved_mb
            return vm.settings.startup_mb

    def _start(self, vm: SimVm) -> PowerOutcome:
        """Start (or restore, or resume) `vm` if its memory fits in what is free."""
        if vm.state == "Paused":
            vm.state = "Running"  # resumed: it holds its memory already
            return PowerOutcome(self.vm_record(vm))

        needed = self.start_need_mb(vm)
        if needed > self.available_mb():
            return PowerOutcome(self.vm_record(vm), needed_mb=needed)
        if vm.guest.in_use_mb <= 0:
            boot_use = ceil_to_alignment(max(needed // 4, BOOT_USE_MIN_MB))
            vm.guest.in_use_mb = min(boot_use, needed)
        vm.state = "Running"
        vm.assigned_mb = needed
        vm.demand_mb = vm.guest.in_use_mb
        vm.uptime_s = 0.0
        vm.saved_mb = 0
        return PowerOutcome(self.vm_record(vm))

    def _resize(self, vm: SimVm, requested_mb: int) -> Shortfall | None:
        """Hot-add or hot-remove towards `requested_mb`; what was achieved is assigned."""
        start = vm.assigned_mb
        if requested_mb > start:
            if not vm.guest.hot_add:
                return Shortfall("guest-no-hot-add", requested_mb, start)
            step = min(requested_mb - start, floor_to_alignment(self.available_mb()))
            vm.assigned_mb = start + step
            rule = "host-free-memory"
        elif requested_mb < start:
            if not vm.guest.hot_remove:
                return Shortfall("guest-no-hot-remove", requested_mb, start)
            guest_free = floor_to_alignment(start - vm.guest.in_use_mb)
            vm.assigned_mb = start - min(start - requested_mb, guest_free)
            rule = "guest-in-use"
        else:
            return None
        if vm.assigned_mb != requested_mb:
            return Shortfall(rule, requested_mb, vm.assigned_mb)
        return None

    def _memory_status_text(self, vm: SimVm) -> str:
        word = living.memory_status(vm)
        return self.texts.get(f"memory_status.{word}") if word else ""
