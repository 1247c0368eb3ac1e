"""`hvmem list`, `hvmem set` and the power commands (`start`, `stop`, `turn-off`, `save`):
the VM table, one memory edit and one power action, for people and scripts.

Both talk to the host given with --host (WinRM; a saved host by name; or "local", a local
PowerShell on Windows), or, without it, to the built-in demo host, started in-process and
stopped afterwards. The password comes from the environment variable HVMEM_PASSWORD or
from the system keyring, never from the command line. Every
failure is printed as a summary, the host's own details and a hint, never as a traceback.
"""

from __future__ import annotations

import argparse
import difflib
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from hvmem import controller, power
from hvmem.errors import ErrorKind, HvmemError
from hvmem.hosts import KEYRING_SERVICE, CredentialStore, credential_key, find_host
from hvmem.hyperv.client import HostClient
from hvmem.hyperv.connect import (
    AGENT_MODES,
    AUTH_METHODS,
    PASSWORD_METHODS,
    HostTarget,
    is_loopback,
    open_client,
    parse_host_url,
)
from hvmem.hyperv.local_channel import LOCAL_HOST, open_local_client
from hvmem.model import Inventory, MemoryChange, VmSnapshot
from hvmem.units import parse_size_mb

log = logging.getLogger("hvmem.cli")

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_PARTIAL, EXIT_REJECTED = 0, 1, 2, 3, 4
PASSWORD_ENV = "HVMEM_PASSWORD"
# Auth methods that cannot work without a password.
_EXIT_BY_OUTCOME = {"applied": EXIT_OK, "unchanged": EXIT_OK, "partial": EXIT_PARTIAL,
                    "rejected": EXIT_REJECTED}


def add_parsers(commands: Any) -> None:
    """Add `list` and `set` to the `hvmem` command's subparsers."""
    listing = commands.add_parser(
        "list", help="list the host's VMs and their memory",
        description="List the host's VMs and their memory settings (sizes in MB).")
    add_host_options(listing)
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=run_list)

    edit = commands.add_parser(
        "set", help="change one VM's memory",
        description="Change one VM's memory in one call. Sizes are MB, or take a unit: "
                    "4096, 4096MB, 4GB, 1TB. Exit status: 0 applied or nothing to do, "
                    "1 failure, 2 usage, 3 applied in part, 4 rejected before sending.")
    add_host_options(edit)
    edit.add_argument("vm", metavar="VM", help="the VM's name or Id")
    edit.add_argument("--startup", type=_size, metavar="SIZE", help="Startup RAM")
    edit.add_argument("--dynamic", choices=("on", "off"), help="Dynamic Memory")
    edit.add_argument("--minimum", type=_size, metavar="SIZE", help="Minimum RAM")
    edit.add_argument("--maximum", type=_size, metavar="SIZE", help="Maximum RAM")
    edit.add_argument("--buffer", type=int, metavar="PCT", help="memory buffer, %%")
    edit.add_argument("--weight", type=int, metavar="N", help="memory weight, 0-100")
    edit.add_argument("--json", action="store_true", help="print the outcome as JSON")
    edit.set_defaults(handler=run_set, parser=edit)

    for command, action in _POWER_COMMANDS.items():
        _add_power_parser(commands, command, action)


# Command name -> power action, and what each says in --help.
_POWER_COMMANDS: dict[str, power.Action] = {"start": "start", "stop": "stop",
                                             "turn-off": "turn_off", "save": "save"}
_POWER_HELP = {
    "start": "start a VM (a saved one is restored, a paused one resumed); says first "
             "whether its startup memory fits in what the host has free",
    "stop": "shut a VM down through its guest (Stop-VM -Force)",
    "turn-off": "turn a VM off at once, like pulling the plug (Stop-VM -TurnOff)",
    "save": "save a VM's state and release its memory (Save-VM)",
}


def _add_power_parser(commands: Any, command: str, action: power.Action) -> None:
    parser = commands.add_parser(
        command, help=_POWER_HELP[command].split(";")[0],
        description=f"{_POWER_HELP[command][0].upper()}{_POWER_HELP[command][1:]}. "
                    "Exit status: 0 done, 1 failure (Hyper-V's own text follows), "
                    "2 usage.")
    add_host_options(parser)
    parser.add_argument("vm", metavar="VM", help="the VM's name or Id")
    parser.add_argument("--json", action="store_true", help="print the outcome as JSON")
    parser.set_defaults(handler=run_power, action=action)


def add_host_options(parser: argparse.ArgumentParser, without_host: str = "Without "
                     "--host, the built-in demo host is used.") -> None:
    """Add --host and the options of how to reach and trust it (`without_host` says
    what happens when --host is not given)."""
    group = parser.add_argument_group(
        "host", f"{without_host} --host may name a saved "
                "host (by its name or address), whose settings then apply unless given "
                f"here. The password comes from {PASSWORD_ENV} or the keyring (service "
                "'hvmem', entry USER@URL).")
    group.add_argument("--host", metavar="NAME|URL", help="a saved host's name, hv01, "
                       "hv01:5985, https://hv01:5986/wsman, or 'local' (this Windows "
                       "machine, through a local PowerShell)")
    group.add_argument("--auth", choices=AUTH_METHODS, default=None,
                       help="authentication method (default: the saved host's, or ntlm)")
    group.add_argument("--user", metavar="NAME", default=None, help="DOMAIN\\user or "
                       "user@domain")
    group.add_argument("--ca-file", metavar="PEM", help="CA bundle to trust for this "
                       "host's https certificate")
    group.add_argument("--trust-fingerprint", metavar="SHA256", help="trust exactly the "
                       "certificate with this SHA-256 fingerprint (shown when it is not "
                       "trusted)")
    group.add_argument("--allow-unencrypted", action="store_true", default=None,
                       help="allow Basic auth over plain http to a host other than "
                       "loopback (the password then crosses the network readable)")
    group.add_argument("--agent-mode", choices=AGENT_MODES, default=None,
                       help="auto (default): one long-lived agent, or one agent per "
                       "request if the host does not deliver input line by line; "
                       "persistent or per-request force one")
    group.add_argument("--cert-pem", metavar="PEM", help="client certificate "
                       "(certificate auth)")
    group.add_argument("--cert-key-pem", metavar="PEM", help="client certificate's key")


def _size(text: str) -> int:
    try:
        return parse_size_mb(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def run_list(args: argparse.Namespace) -> int:
    """`hvmem list`: the host's VMs as a table or as JSON."""
    return _guarded(lambda: _list(args))


def run_set(args: argparse.Namespace) -> int:
    """`hvmem set`: one memory edit; the exit status says how it went."""
    change = _change_from_args(args)
    if change.is_empty():
        args.parser.print_usage(sys.stderr)
        print("hvmem set: error: say what to change: --startup, --dynamic, --minimum, "
              "--maximum, --buffer or --weight", file=sys.stderr)
        return EXIT_USAGE
    return _guarded(lambda: _set(args, change))


def run_power(args: argparse.Namespace) -> int:
    """`hvmem start|stop|turn-off|save`: one power action; 0 done, 1 not."""
    return _guarded(lambda: _power(args))


def _power(args: argparse.Namespace) -> int:
    with connected(args) as client:
        inventory = client.list()
        vm = find_vm(inventory, args.vm, client.name)
        fit = power.start_fit(vm, inventory.host) if args.action == "start" else None
        if fit is not None and not args.json:
            # Said before trying: the host may still have more free than it reported.
            print(fit.message, flush=True)
        result = power.power(client, vm, args.action)

    if args.json:
        shown = result.to_json()
        shown["vm"] = vm_to_json(result.vm_after) if result.vm_after else None
        if fit is not None:
            shown["fit"] = {"fits": fit.fits, "needed_mb": fit.needed_mb,
                            "available_mb": fit.available_mb, "message": fit.message}
        print(json.dumps(shown, indent=2))
    elif result.outcome != "refused":
        print(result.summary())
    if result.outcome != "done" and result.error is not None:
        print_error(result.error)
    return EXIT_OK if result.outcome == "done" else EXIT_FAILURE


def _guarded(action: Callable[[], int]) -> int:
    """Run `action`; any failure becomes a printed message and exit status 1."""
    try:
        return action()
    except HvmemError as exc:
        print_error(exc)
        return EXIT_FAILURE
    except Exception as exc:  # the last line of defence: a message, never a traceback
        # The traceback goes to the log file only (and to stderr with --debug).
        log.debug("unexpected failure", exc_info=True)
        print(f"hvmem: internal error: {exc!r} (the log has the details)",
              file=sys.stderr)
        return EXIT_FAILURE


def print_error(exc: HvmemError) -> None:
    """An HvmemError as a person reads it: summary, the host's details, a hint."""
    print(f"hvmem: {exc.headline()}", file=sys.stderr)
    if exc.details:
        for line in exc.details.splitlines():
            print(f"  {line}", file=sys.stderr)
    if exc.hint:
        print(f"hint: {exc.hint}", file=sys.stderr)


@contextmanager
def connected(args: argparse.Namespace) -> Iterator[HostClient]:
    """A client for --host, or for the demo host started here; closed (stopped) after."""
    if not args.host:
        from hvmem.sim.demo import start_demo

        demo = start_demo()
        try:
            with _closing(demo.client()) as client:
                yield client
        finally:
            demo.stop()
        return
    if args.host.strip().lower() == LOCAL_HOST:
        with _closing(open_local_client()) as client:
            yield client
        return

    target = target_from_args(args)
    with _closing(open_client(target)) as client:
        yield client


def target_from_args(args: argparse.Namespace) -> HostTarget:
    """The target for --host: a saved host's settings, overridden by options given.

    Raises:
        HvmemError: kind CONFIG for settings that cannot work or a missing password.
    """
    saved = find_host(args.host)
    base = saved.to_target() if saved else HostTarget(url=parse_host_url(args.host))
    given = {
        "auth": args.auth, "user": args.user, "ca_trust_path": args.ca_file,
        "cert_fingerprint": args.trust_fingerprint,
        "allow_unencrypted": args.allow_unencrypted, "agent_mode": args.agent_mode,
        "cert_pem": args.cert_pem, "cert_key_pem": args.cert_key_pem,
    }
    target = replace(base, **{k: v for k, v in given.items() if v is not None})
    target = replace(target, password=_password(target.auth, target.user, target.url))
    target.check()
    if target.auth == "basic" and not target.uses_tls and not is_loopback(target.host):
        print(f"warning: Basic authentication over plain http: the password for "
              f"{target.host} crosses the network readable", file=sys.stderr)
    if saved is not None:
        log.info("using saved host %s (%s)", saved.display_name, saved.url)
    return target


@contextmanager
def _closing(client: HostClient) -> Iterator[HostClient]:
    try:
        yield client
    finally:
        try:
            client.close()
        except HvmemError as exc:  # closing is a courtesy; the answer is already in
            log.warning("closing %s failed: %s", client.name, exc)


def _password(auth: str, user: str, url: str) -> str:
    """The password from HVMEM_PASSWORD, else the keyring; "" when the method needs none.

    Raises:
        HvmemError: kind CONFIG, when the method needs one and none can be found.
    """
    from_env = os.environ.get(PASSWORD_ENV)
    if from_env:
        return from_env
    if auth not in PASSWORD_METHODS:
        return ""

    store = CredentialStore()
    entry = credential_key(user, url)
    stored = store.get(user, url)
    if stored:
        return stored
    where = (f"keyring set {KEYRING_SERVICE} '{entry}'" if store.available
             else "(no keyring here)")
    raise HvmemError(ErrorKind.CONFIG, f"No password for {entry}",
                     details="" if store.available else
                     f"Passwords cannot be stored: {store.why_not}.",
                     hint=f"Set {PASSWORD_ENV}, or store it with: {where}"
                     if store.available else f"Set {PASSWORD_ENV}.")


def _change_from_args(args: argparse.Namespace) -> MemoryChange:
    return MemoryChange(
        startup_mb=args.startup,
        dynamic=None if args.dynamic is None else args.dynamic == "on",
        minimum_mb=args.minimum,
        maximum_mb=args.maximum,
        buffer_percent=args.buffer,
        weight=args.weight,
    )


def _list(args: argparse.Namespace) -> int:
    with connected(args) as client:
        inventory = client.list()
    if args.json:
        print(json.dumps(inventory_to_json(inventory), indent=2))
    else:
        print(format_table(inventory))
    return EXIT_OK


def _set(args: argparse.Namespace, change: MemoryChange) -> int:
    with connected(args) as client:
        inventory = client.list()
        vm = find_vm(inventory, args.vm, client.name)
        result = controller.apply(client, vm, change, inventory.host)

    for warning in result.warnings:
        print(f"warning: {warning.message}", file=sys.stderr)
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
    else:
        print(result.summary())
    if result.error is not None and result.outcome != "applied":
        print_error(result.error)
    return _EXIT_BY_OUTCOME.get(result.outcome, EXIT_FAILURE)


def find_vm(inventory: Inventory, wanted: str, host: str) -> VmSnapshot:
    """The VM named or identified by `wanted` (Ids case-insensitive).

    Raises:
        HvmemError: kind NOT_FOUND when no VM or several match, listing the candidates.
    """
    by_id = inventory.vm(wanted.strip())
    if by_id is not None:
        return by_id
    matches = [vm for vm in inventory.vms if vm.name == wanted]
    if not matches:
        matches = [vm for vm in inventory.vms if vm.name.lower() == wanted.lower()]
    if len(matches) == 1:
        return matches[0]

    listed = "\n".join(f"{vm.name}  {vm.id}" for vm in (matches or inventory.vms))
    if matches:
        raise HvmemError(ErrorKind.NOT_FOUND, f"{len(matches)} VMs are named {wanted!r}",
                         details=listed, hint="Give the VM's Id instead.", host=host)
    names = [vm.name for vm in inventory.vms]
    close = difflib.get_close_matches(wanted, names, n=3, cutoff=0.75)
    guess = f"Did you mean {' or '.join(map(repr, close))}? " if close else ""
    raise HvmemError(ErrorKind.NOT_FOUND, f"No VM named or with the Id {wanted!r}",
                     details=listed or "(the host has no VMs)",
                     hint=guess + "Use one of the names or Ids above; `hvmem list` shows "
                     "them.", host=host)


def vm_to_json(vm: VmSnapshot) -> dict[str, Any]:
    """One VM in the `hvmem list --json` shape."""
    return {
        "id": vm.id, "name": vm.name, "state": vm.state, "generation": vm.generation,
        "version": vm.version, **controller.settings_to_json(vm.memory),
        "assigned_mb": vm.assigned_mb, "demand_mb": vm.demand_mb,
        "memory_status": vm.memory_status, "cpu_percent": vm.cpu_percent,
        "uptime_s": vm.uptime_s, "status": vm.status,
    }


def inventory_to_json(inventory: Inventory) -> dict[str, Any]:
    host = inventory.host
    return {
        "host": {"name": host.name, "total_mb": host.total_mb,
                 "available_mb": host.available_mb},
        "vms": [vm_to_json(vm) for vm in inventory.vms],
    }


_COLUMNS = ("NAME", "STATE", "ASSIGNED", "STARTUP", "DYNAMIC", "MINIMUM", "MAXIMUM",
            "BUFFER", "WEIGHT", "VERSION", "ID")


def format_table(inventory: Inventory) -> str:
    """The VMs as an aligned text table, sizes in MB, under a line about the host."""
    host = inventory.host
    lines = [f"Host {host.name}: {host.total_mb} MB total, {host.available_mb} MB "
             "available (sizes in MB)"]
    if not inventory.vms:
        return "\n".join(lines + [f"No virtual machines on {host.name}."])

    rows = [_COLUMNS] + [_row(vm) for vm in inventory.vms]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS))]
    for row in rows:
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    return "\n".join(lines)


def _row(vm: VmSnapshot) -> tuple[str, ...]:
    m = vm.memory
    dm_only = m.dynamic
    return (
        vm.name, vm.state, str(vm.assigned_mb), str(m.startup_mb),
        "on" if m.dynamic else "off",
        str(m.minimum_mb) if dm_only else "-", str(m.maximum_mb) if dm_only else "-",
        f"{m.buffer_percent}%" if dm_only else "-", str(m.weight), vm.version, vm.id,
    )
