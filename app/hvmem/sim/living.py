"""The simulated host's "living" memory: drifting demand, and Dynamic Memory following it.

Off by default (`SimHost.living`), so tests and scenarios see fixed figures unless they
ask for motion. When on, every `SimHost.advance` moves each running VM's guest use a
little (a seeded random walk, so the same seed gives the same story) and lets Dynamic
Memory assign demand plus buffer within Minimum and Maximum, limited by the host's free
memory; when memory is scarce, VMs with a higher weight are served first.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from hvmem.sim.rules import ceil_to_alignment, floor_to_alignment

if TYPE_CHECKING:
    from hvmem.sim.host import SimHost, SimVm

OK_ABOVE_PERCENT = 80  # available buffer above this share of the target buffer: "OK"
DRIFT_PERCENT_PER_MINUTE = 3.0  # guest use moves by up to this share of assigned a minute
MIN_GUEST_USE_MB = 64
STEP_SECONDS = 10.0


def make_random(seed: int) -> random.Random:
    return random.Random(seed)


def memory_status(vm: SimVm) -> str:
    """"OK", "Low", "Warning" or "" (no data) for a VM, in English (the host translates).

    Only Dynamic Memory VMs that hold memory report a status. The share of the configured
    buffer the VM actually has decides it: below zero (assigned under demand) "Warning",
    above 80 % "OK", between "Low".
    """
    settings = vm.settings
    if not settings.dynamic or not vm.holds_memory or vm.demand_mb <= 0:
        return ""
    wanted_buffer = vm.demand_mb * settings.buffer_percent / 100
    share = (vm.assigned_mb - vm.demand_mb) * 100 / max(wanted_buffer, 1)
    if share < 0:
        return "Warning"
    return "OK" if share > OK_ABOVE_PERCENT else "Low"


def target_mb(vm: SimVm) -> int:
    """What Dynamic Memory would like to assign: demand plus buffer, in min..max."""
    settings = vm.settings
    buffer_mb = vm.demand_mb * settings.buffer_percent // 100
    wanted = ceil_to_alignment(vm.demand_mb + buffer_mb)
    return min(max(wanted, settings.minimum_mb), settings.maximum_mb)


def step(host: SimHost, seconds: float, rng: random.Random) -> None:
    """One step of the living model. Called with the host's lock held.

    Guest use drifts first; then Dynamic Memory VMs give back what they hold above their
    target, and the ones below it grow, the heaviest weight first, as far as the host's
    free memory goes.
    """
    running = [vm for vm in host.vms() if vm.state == "Running"]
    for vm in running:
        _drift_guest(vm, seconds, rng, host.drift_percent_per_minute)
    dynamic = [vm for vm in running if vm.settings.dynamic]

    for vm in dynamic:
        vm.assigned_mb = min(vm.assigned_mb, target_mb(vm))

    # Name, then id, break ties in weight so the order never depends on dict or set order.
    for vm in sorted(dynamic, key=lambda v: (-v.settings.weight, v.name, v.id)):
        want = target_mb(vm) - vm.assigned_mb
        if want > 0:
            vm.assigned_mb += min(want, floor_to_alignment(host.available_mb()))


def _drift_guest(vm: SimVm, seconds: float, rng: random.Random, percent: float) -> None:
    """Guest use wanders (demand follows it; static VMs report demand as well)."""
    if percent <= 0:
        return
    span = vm.assigned_mb * percent / 100 * min(seconds, 600) / 60
    moved = int(vm.guest.in_use_mb + rng.uniform(-span, span))
    ceiling = vm.settings.maximum_mb if vm.settings.dynamic else vm.assigned_mb
    vm.guest.in_use_mb = min(max(moved, MIN_GUEST_USE_MB), max(ceiling, MIN_GUEST_USE_MB))
    vm.demand_mb = vm.guest.in_use_mb
    vm.cpu_percent = min(max(vm.cpu_percent + rng.randint(-2, 2), 0), 100)
