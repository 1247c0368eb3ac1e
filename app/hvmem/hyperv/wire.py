"""Reading the agent's records field by field, each checked for the type the protocol
promises (see `hvmem.hyperv.protocol`).

A record that breaks the promise (a missing field, a string or a float where whole bytes
belong, a negative size, "false" where true or false belongs) raises `ProtocolError`
naming the field and the value, never a KeyError or a silently converted value. The
shapes Windows PowerShell 5.1 is known to produce are read for what they mean: a VM
state as its enum number (F12) and a TimeSpan as its object of properties (F13).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from hvmem.hyperv.protocol import ProtocolError

INT64_MAX = 2**63 - 1
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
TICKS_PER_SECOND = 10_000_000

# Hyper-V's VMState numbers whose names have been the same on every build. Other numbers
# (the critical and transitional states) differ between builds, so they stay visible as
# "State N" and the rules treat them as unknown, hence read-only.
STABLE_STATE_NAMES = {2: "Running", 3: "Off", 6: "Saved", 9: "Paused"}


def _value(data: Any, key: str, what: str) -> Any:
    if not isinstance(data, Mapping):
        raise ProtocolError(f"{what} is not an object: {data!r:.200}")
    value = data.get(key)
    if value is None:
        raise ProtocolError(f"{what} lacks {key}: {dict(data)!r:.300}")
    return value


def whole(data: Any, key: str, what: str, *, optional: bool = False,
          minimum: int = 0, maximum: int = INT64_MAX) -> int:
    """A whole number from `minimum` to `maximum` (bytes, seconds...); a missing
    optional one is 0."""
    if optional and isinstance(data, Mapping) and data.get(key) is None:
        return 0
    value = _value(data, key, what)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProtocolError(f"{what}.{key} is not a whole number: {value!r:.100}")
    if not minimum <= value <= maximum:
        raise ProtocolError(f"{what}.{key} is outside {minimum}..{maximum}: {value}")
    return value


def flag(data: Any, key: str, what: str, *, optional: bool = False,
         ) -> bool:
    """True or false, never a truthy string; a missing optional one (unknown) is False."""
    if optional and isinstance(data, Mapping) and data.get(key) is None:
        return False
    value = _value(data, key, what)
    if not isinstance(value, bool):
        raise ProtocolError(f"{what}.{key} is not true or false: {value!r:.100}")
    return value


def text(data: Any, key: str, what: str, *, optional: bool = False,
         ) -> str:
    """A string; a missing optional one is ""."""
    if optional and isinstance(data, Mapping) and data.get(key) is None:
        return ""
    value = _value(data, key, what)
    if not isinstance(value, str):
        raise ProtocolError(f"{what}.{key} is not a string: {value!r:.100}")
    return value


def vm_id(data: Any, what: str) -> str:
    """The VM's Id as lower-case GUID text, the only handle hvmem addresses VMs by."""
    value = text(data, "id", what)
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ProtocolError(f"{what}.id is not a VM id (a GUID): {value!r:.100}",
                            ) from None


def state_name(data: Any, what: str) -> str:
    """The state's name; a number (PowerShell 5.1 writes enums as numbers) is named
    only when its name is stable across Hyper-V builds, else kept as "State N"."""
    state = data.get("state") if isinstance(data, Mapping) else None
    if isinstance(state, str) and state.strip() and not state.strip().isdecimal():
        return state
    number: Any = state
    if isinstance(state, str) and state.strip().isascii() and state.strip().isdecimal():
        number = int(state)
    elif state is None or state == "":
        number = data.get("state_value") if isinstance(data, Mapping) else None
    if isinstance(number, bool) or not isinstance(number, int):
        raise ProtocolError(f"{what}.state is neither a state name nor its number: "
                            f"{state!r:.100}")
    return STABLE_STATE_NAMES.get(number, f"State {number}")


def seconds(data: Any, key: str, what: str) -> int:
    """Whole seconds: a number, or a TimeSpan as 5.1's ConvertTo-Json writes it (an
    object of its properties, Ticks exact); missing is 0."""
    value = data.get(key) if isinstance(data, Mapping) else None
    if isinstance(value, Mapping):
        ticks = value.get("Ticks")
        if isinstance(ticks, int) and not isinstance(ticks, bool) and ticks >= 0:
            return ticks // TICKS_PER_SECOND
        raise ProtocolError(f"{what}.{key} is a TimeSpan without whole Ticks: "
                            f"{dict(value)!r:.200}")
    return whole(data, key, what, optional=True)


def records(value: Any, what: str) -> list[Mapping[str, Any]]:
    """A list of objects; one object alone (5.1 unwraps one-element arrays, F11) is a
    list of one, and null or absent is none."""
    if value is None:
        return []
    if isinstance(value, Mapping):
        return [value]
    if not isinstance(value, list):
        raise ProtocolError(f"{what} is not a list: {value!r:.200}")
    for index, item in enumerate(value):
        if not isinstance(item, Mapping):
            raise ProtocolError(f"{what}[{index}] is not an object: {item!r:.200}")
    return value
