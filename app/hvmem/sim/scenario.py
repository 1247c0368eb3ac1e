"""Scenario files (resources/scenarios/*.json) -> a validated `SimHost`.

A scenario describes one host and its VMs (format in docs/scenarios.md). Loading checks
every field and stops at the first problem with a `ScenarioError` that names the field's
path and value, such as ``vms[3].startup_mb: 4019 is not a multiple of 2 MB``. A VM
without an ``id`` gets one derived from its name (uuid5 over a fixed namespace), so ids
are stable from run to run.
"""

from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path
from typing import Any

from hvmem import paths
from hvmem.errors import ErrorKind, HvmemError
from hvmem.model import MemorySettings
from hvmem.sim.host import GuestInfo, SimHost, SimVm
from hvmem.sim.living import target_mb
from hvmem.sim.messages import ENGLISH
from hvmem.sim.rules import STATE_VALUES, VmFacts, check_values, holds_memory

log = logging.getLogger("hvmem.sim")

# Fixed, so that a VM's derived id never changes between runs or machines.
ID_NAMESPACE = uuid.UUID("5d3b6a0e-6f39-4a1f-9c2e-8a7d1b0c4e21")

_VALUE_PROBLEMS = {
    "align-2mb": "is not a multiple of 2 MB",
    "min-32mb": "is below 32 MB",
    "max-bound": "is above the {limit} MB this generation and version allow",
    "order-min-startup": "is above startup_mb ({limit})",
    "order-startup-max": "is below startup_mb ({limit})",
    "buffer-range": "is outside 5..2000",
    "weight-range": "is outside 0..100",
    "gpu-startup-min": "must equal startup_mb ({limit}) with a GPU partition",
}
_TOP_KEYS = {"host", "vms", "seed"}
_HOST_KEYS = {"name", "total_mb", "reserve_mb", "locale", "texts", "seed", "living"}
_GUEST_KEYS = {"os": str, "hot_add": bool, "hot_remove": bool, "in_use_mb": int}
_VM_KEYS = {
    "name": str, "state": str, "generation": int, "version": str, "dynamic_memory": bool,
    "startup_mb": int, "minimum_mb": int, "maximum_mb": int, "buffer_percent": int,
    "weight": int, "guest": dict,
}
_VM_OPTIONAL = {
    "id": str, "assigned_mb": int, "demand_mb": int, "nested_virtualization": bool,
    "gpu_partition": bool, "status": str, "cpu_percent": int, "uptime_s": int,
}


class ScenarioError(HvmemError):
    """A scenario file that cannot be loaded; the summary names the field and value."""

    def __init__(self, message: str) -> None:
        super().__init__(ErrorKind.CONFIG, message,
                         hint="fix the scenario file (format: docs/scenarios.md)")


def scenarios_dir() -> Path:
    return paths.resources_dir() / "scenarios"


def scenario_names() -> list[str]:
    """Names of the scenarios that ship with hvmem, sorted."""
    return sorted(path.stem for path in scenarios_dir().glob("*.json"))


def derive_vm_id(name: str) -> str:
    """The id a VM without one gets: uuid5 of its name in hvmem's namespace."""
    return str(uuid.uuid5(ID_NAMESPACE, name))


def load_scenario(name_or_path: str, *, seed: int | None = None) -> SimHost:
    """Load and validate a scenario: a bare name from resources/scenarios, or a path.

    Args:
        name_or_path: "desktop", or a path to a .json file.
        seed: overrides the scenario's own seed (for the living model).

    Raises:
        ScenarioError: the file is missing, not JSON, or a field is wrong.
    """
    path = _resolve(name_or_path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    try:
        # utf-8-sig: Notepad and PowerShell 5.1 write a BOM in front (F04).
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{path.name}: not UTF-8 text (byte {exc.start}: "
                            f"{raw[exc.start:exc.start + 1]!r})") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioError(
            f"{path.name}: not valid JSON at line {exc.lineno}, column {exc.colno}: "
            f"{exc.msg}") from exc
    host = host_from_data(data, seed=seed)
    log.debug("scenario %s: %s VMs on %s", path.name, len(host.vms()), host.name)
    return host


def _resolve(name_or_path: str) -> Path:
    looks_like_path = "/" in name_or_path or "\\" in name_or_path or (
        name_or_path.endswith(".json"))
    if looks_like_path:
        return Path(name_or_path)
    path = scenarios_dir() / f"{name_or_path}.json"
    if not path.is_file():
        known = ", ".join(scenario_names()) or "none"
        raise ScenarioError(f"no scenario named {name_or_path!r} (known: {known})")
    return path


def host_from_data(data: Any, *, seed: int | None = None) -> SimHost:
    """A SimHost from already parsed scenario data (validated like a file)."""
    _expect(data, dict, "scenario")
    _check_keys(data, _TOP_KEYS, "")
    host = _field(data, "host", dict, "")
    _check_keys(host, _HOST_KEYS, "host")
    name = _field(host, "name", str, "host")
    total = _positive(_field(host, "total_mb", int, "host"), "host.total_mb")
    reserve = _field(host, "reserve_mb", int, "host")
    locale = _field(host, "locale", str, "host")
    if not 0 <= reserve < total:
        raise ScenarioError(f"host.reserve_mb: {reserve} is not between 0 and total_mb")
    texts = host.get("texts", {})
    _expect(texts, dict, "host.texts")
    _check_keys(texts, set(ENGLISH), "host.texts")
    for key, value in texts.items():
        _expect(value, str, f"host.texts.{key}")
    own_seed = host.get("seed", data.get("seed", 0))
    _expect(own_seed, int, "host.seed")

    vms = [_vm_from_data(item, f"vms[{i}]")
           for i, item in enumerate(_field(data, "vms", list, ""))]
    _check_unique_ids(vms)
    _check_fits(vms, total - reserve)
    living = host.get("living", False)
    _expect(living, bool, "host.living")
    sim_host = SimHost(name, total, reserve, locale, vms, texts=texts,
                       seed=own_seed if seed is None else seed)
    sim_host.living = living
    return sim_host


def _vm_from_data(item: Any, where: str) -> SimVm:
    _expect(item, dict, where)
    _check_keys(item, set(_VM_KEYS) | set(_VM_OPTIONAL), where)
    values = {key: _field(item, key, kind, where) for key, kind in _VM_KEYS.items()}
    for key, kind in _VM_OPTIONAL.items():
        if key in item:
            values[key] = _field(item, key, kind, where)
    if not values["name"].strip():
        raise ScenarioError(f"{where}.name: {values['name']!r} is empty")
    for key in ("uptime_s", "demand_mb"):
        if key in values:
            _positive(values[key], f"{where}.{key}", allow_zero=True)
    state = values["state"]
    if state not in STATE_VALUES:
        raise ScenarioError(f"{where}.state: {state!r} is not a Get-VM state name")
    if values["generation"] not in (1, 2):
        raise ScenarioError(f"{where}.generation: {values['generation']} is not 1 or 2")
    _check_version(values["version"], f"{where}.version")
    guest = _guest_from_data(values["guest"], f"{where}.guest")
    settings = MemorySettings(
        values["startup_mb"], values["dynamic_memory"], values["minimum_mb"],
        values["maximum_mb"], values["buffer_percent"], values["weight"])
    vm = SimVm(
        id=_vm_id(values, where), name=values["name"], state=state,
        generation=values["generation"], version=values["version"], settings=settings,
        guest=guest, uptime_s=float(values.get("uptime_s", 0)),
        cpu_percent=values.get("cpu_percent", 0), status=values.get("status", ""),
        nested_virtualization=values.get("nested_virtualization", False),
        gpu_partition=values.get("gpu_partition", False),
    )
    _check_settings(vm, where)
    _set_memory_figures(vm, values, where)
    return vm


def _guest_from_data(data: dict[str, Any], where: str) -> GuestInfo:
    _check_keys(data, set(_GUEST_KEYS), where)
    values = {key: _field(data, key, kind, where) for key, kind in _GUEST_KEYS.items()}
    _positive(values["in_use_mb"], f"{where}.in_use_mb", allow_zero=True)
    return GuestInfo(**values)


def _vm_id(values: dict[str, Any], where: str) -> str:
    if "id" not in values:
        return derive_vm_id(values["name"])
    try:
        return str(uuid.UUID(values["id"]))
    except ValueError:
        raise ScenarioError(f"{where}.id: {values['id']!r} is not a GUID") from None


def _check_version(version: str, where: str) -> None:
    parts = version.split(".")
    if len(parts) != 2 or not all(part.isdigit() for part in parts):
        raise ScenarioError(f"{where}: {version!r} is not a version like \"10.0\"")


def _check_settings(vm: SimVm, where: str) -> None:
    facts = VmFacts(vm.name, vm.state, vm.generation, vm.version,
                    vm.nested_virtualization, vm.gpu_partition)
    for refusal in check_values(facts, vm.settings):
        problem = _VALUE_PROBLEMS[refusal.rule].format(limit=refusal.limit)
        raise ScenarioError(f"{where}.{refusal.setting}: {refusal.value} {problem}")
    if vm.cpu_percent < 0 or vm.cpu_percent > 100:
        raise ScenarioError(f"{where}.cpu_percent: {vm.cpu_percent} is outside 0..100")


def _set_memory_figures(vm: SimVm, values: dict[str, Any], where: str) -> None:
    """Assigned and demand: given, or what a host would show for the VM's state."""
    if not holds_memory(vm.state):
        for key in ("assigned_mb", "demand_mb"):
            if values.get(key, 0):
                raise ScenarioError(f"{where}.{key}: {values[key]}, but a VM in state "
                                    f"{vm.state} holds no memory")
        return

    vm.demand_mb = values.get("demand_mb", vm.guest.in_use_mb)
    settings = vm.settings
    if settings.dynamic:
        vm.assigned_mb = values.get("assigned_mb", target_mb(vm))
        low, high = settings.minimum_mb, settings.maximum_mb
    else:
        vm.assigned_mb = values.get("assigned_mb", settings.startup_mb)
        low = high = settings.startup_mb
    if not low <= vm.assigned_mb <= high or vm.assigned_mb % 2:
        raise ScenarioError(f"{where}.assigned_mb: {vm.assigned_mb} is not an even value "
                            f"within {low}..{high}")
    if vm.guest.in_use_mb > vm.assigned_mb and not settings.dynamic:
        raise ScenarioError(f"{where}.guest.in_use_mb: {vm.guest.in_use_mb} is above the "
                            f"{vm.assigned_mb} MB assigned")


def _check_unique_ids(vms: list[SimVm]) -> None:
    seen: dict[str, int] = {}
    for index, vm in enumerate(vms):
        if vm.id in seen:
            raise ScenarioError(f"vms[{index}].id: duplicate id {vm.id} "
                                f"(also vms[{seen[vm.id]}])")
        seen[vm.id] = index


def _check_fits(vms: list[SimVm], usable_mb: int) -> None:
    held = sum(vm.assigned_mb for vm in vms if vm.holds_memory)
    if held > usable_mb:
        raise ScenarioError(f"vms: running VMs hold {held} MB, more than the host's "
                            f"{usable_mb} MB (total_mb - reserve_mb)")


def _check_keys(data: dict[str, Any], known: set[str], where: str) -> None:
    # A misspelt key would otherwise be ignored and its default used without a word.
    for key in data:
        if key not in known:
            path = f"{where}.{key}" if where else key
            known_keys = ", ".join(sorted(known))
            raise ScenarioError(f"{path}: unknown key (known: {known_keys})")


def _field(data: dict[str, Any], key: str, kind: type, where: str) -> Any:
    path = f"{where}.{key}" if where else key
    if key not in data:
        raise ScenarioError(f"{path}: missing")
    _expect(data[key], kind, path)
    return data[key]


def _expect(value: Any, kind: type, path: str) -> None:
    # bool is an int in Python; a scenario's true is never a number of MB.
    wrong_bool = kind is int and isinstance(value, bool)
    if wrong_bool or not isinstance(value, kind):
        raise ScenarioError(f"{path}: {value!r} is not {_KIND_NAMES[kind]}")


def _positive(value: int, path: str, allow_zero: bool = False) -> int:
    if value < 0 or (value == 0 and not allow_zero):
        raise ScenarioError(f"{path}: {value} must be positive")
    return value


_KIND_NAMES: dict[type, str] = {
    int: "an integer", str: "a string", bool: "true or false", dict: "an object",
    list: "a list",
}
