"""The `hoster` scenario's generator: a 512 GB host with 200 tenant VMs, from a seed.

resources/scenarios/hoster.json is this generator's output, committed so that it can be
read and diffed; a test checks that the two agree. Regenerate after changing this file:

    uv run python -m hvmem.sim.generate > resources/scenarios/hoster.json

The mix covers what a hosting provider's host shows: both generations, configuration
versions from 5.0 to 12.0, every common state, static and Dynamic Memory, guests that can
or cannot resize at runtime, a few VMs with nested virtualization or a GPU partition, and
the awkward names of the field cases (wildcards, quotes, non-ASCII, a duplicate name).
"""

from __future__ import annotations

import json
import random
import sys
from typing import Any

HOSTER_SEED = 512
TOTAL_MB = 524_288
RESERVE_MB = 8_192
KEEP_FREE_MB = 24_576  # leave room to grow, so runtime increases can succeed
TENANTS = 200

# (guest OS, hot add, hot remove, generations it runs as)
GUESTS = [
    ("Windows Server 2012 R2", False, False, (1, 2)),
    ("Windows Server 2016", True, True, (1, 2)),
    ("Windows Server 2019", True, True, (1, 2)),
    ("Windows Server 2022", True, True, (2,)),
    ("Windows 10 Enterprise", True, True, (1, 2)),
    ("Ubuntu 22.04 LTS", True, False, (2,)),
    ("Debian 12", True, False, (2,)),
    ("CentOS 7", True, False, (1, 2)),
]
VERSIONS = ["5.0", "8.0", "9.0", "9.1", "10.0", "11.0", "12.0"]
STATES = ["Running"] * 13 + ["Off"] * 4 + ["Saved", "Saved", "Paused", "Starting",
                                            "Stopping", "Saving"]
SIZES_MB = [1024, 2048, 2048, 4096, 4096, 8192]
ROLES = ["web", "db", "app", "mail", "vpn", "files", "build", "cache"]
# Names from the field cases, spread over the list; the second "web01" needs an id of its
# own, since a derived id would repeat with the name (Hyper-V allows repeated names).
SPECIAL_NAMES = {17: "db[1]", 45: "db1", 73: "Bob's VM", 101: "测试", 129: "Café-DB",
                 157: "web01", 185: "web01"}
DUPLICATE_AT = 185
DUPLICATE_ID = "0b7e5a51-8c1d-4c7e-9e0a-3f1d2c4b5a60"


def generate_hoster(seed: int = HOSTER_SEED) -> dict[str, Any]:
    """The hoster scenario as data (the same for the same seed)."""
    rng = random.Random(seed)
    vms = [_tenant(rng, index) for index in range(TENANTS)]
    _fit(vms)
    host = {"name": "HV-HOSTER-07", "total_mb": TOTAL_MB, "reserve_mb": RESERVE_MB,
            "locale": "en-US", "seed": seed}
    return {"host": host, "vms": vms}


def _tenant(rng: random.Random, index: int) -> dict[str, Any]:
    role = rng.choice(ROLES)
    name = SPECIAL_NAMES.get(index, f"t{index + 1:03d}-{role}")
    generation = 1 if rng.random() < 0.2 else 2
    os_name, hot_add, hot_remove, _ = rng.choice(
        [guest for guest in GUESTS if generation in guest[3]])
    version = rng.choice(VERSIONS[:3] if generation == 1 else VERSIONS)
    state = rng.choice(STATES)
    startup = rng.choice(SIZES_MB)
    vm: dict[str, Any] = {
        "name": name, "state": state, "generation": generation, "version": version,
        "dynamic_memory": False, "startup_mb": startup, "minimum_mb": 512,
        "maximum_mb": 1_048_576, "buffer_percent": 20, "weight": 50,
    }
    if index == DUPLICATE_AT:
        vm["id"] = DUPLICATE_ID
    if rng.random() < 0.4:
        _make_dynamic(rng, vm)

    holds = state not in ("Off", "Saved")
    in_use = _even(startup * rng.uniform(0.3, 0.9)) if holds else 0
    vm["guest"] = {"os": os_name, "hot_add": hot_add, "hot_remove": hot_remove,
                   "in_use_mb": in_use}
    if holds:
        vm["cpu_percent"] = rng.randint(0, 60)
        vm["uptime_s"] = rng.randint(60, 90 * 86400)
    if rng.random() < 0.03:
        vm["nested_virtualization"] = True
    return vm


def _make_dynamic(rng: random.Random, vm: dict[str, Any]) -> None:
    startup = vm["startup_mb"]
    vm.update(dynamic_memory=True, minimum_mb=min(rng.choice([512, 1024]), startup),
              maximum_mb=rng.choice([startup * 2, startup * 4, 1_048_576]),
              buffer_percent=rng.choice([10, 20, 20, 50]),
              weight=rng.choice([20, 50, 50, 80]))
    if rng.random() < 0.05:
        vm["gpu_partition"] = True
        vm["minimum_mb"] = startup


def _fit(vms: list[dict[str, Any]]) -> None:
    """Turn the last VMs that hold memory Off until the host has room to spare."""
    usable = TOTAL_MB - RESERVE_MB - KEEP_FREE_MB
    for vm in reversed(vms):
        if _held(vms) <= usable:
            return
        if vm["state"] not in ("Off", "Saved"):
            vm["state"] = "Off"
            vm["guest"]["in_use_mb"] = 0
            vm.pop("cpu_percent", None)
            vm.pop("uptime_s", None)


def _held(vms: list[dict[str, Any]]) -> int:
    """What the VMs holding memory have assigned, worked out as the loader does."""
    total = 0
    for vm in vms:
        if vm["state"] in ("Off", "Saved"):
            continue
        if not vm["dynamic_memory"]:
            total += vm["startup_mb"]
            continue
        demand = vm["guest"]["in_use_mb"]
        wanted = _even_up(demand + demand * vm["buffer_percent"] // 100)
        total += min(max(wanted, vm["minimum_mb"]), vm["maximum_mb"])
    return total


def _even(mb: float) -> int:
    return int(mb) // 2 * 2


def _even_up(mb: int) -> int:
    return -(-mb // 2) * 2


def render(data: dict[str, Any]) -> str:
    """The scenario as the committed file holds it: one VM per line, UTF-8."""
    host = json.dumps(data["host"], ensure_ascii=False)
    vms = ",\n".join("    " + json.dumps(vm, ensure_ascii=False) for vm in data["vms"])
    return f'{{\n  "host": {host},\n  "vms": [\n{vms}\n  ]\n}}\n'


if __name__ == "__main__":
    sys.stdout.buffer.write(render(generate_hoster()).encode("utf-8"))
