"""A guard against PySide6's `Signal.emit` dropping a reference to `True` on Python 3.11.

PySide6 6.12 (the abi3 wheel) returns `True` from `SignalInstance.emit` without taking a
reference for the caller. From Python 3.12 on, `True` is immortal and nothing happens;
on 3.11 each emit lowers its reference count by one, and after a few thousand emits
(a 200-VM host refreshing for half a minute) CPython deallocates `True` and aborts with
"Fatal Python error: bool_dealloc". `guard_bool_refcounts` detects the leak with a few
emits of a probe signal and, only when it is there, gives `True` and `False` a reference
count so large that no session can exhaust it, which is what 3.12 does for them anyway.
"""

from __future__ import annotations

import ctypes
import logging
import sys

log = logging.getLogger("hvmem.gui")

_PROBE_EMITS = 64
# 2**40 emits at a million emits a second is twelve days of nothing but emitting.
_RESERVE = 1 << 40


def emit_leaks_true() -> bool:
    """Whether emitting a Qt signal from Python loses a reference to `True`."""
    from PySide6.QtCore import QObject, Signal

    class _Probe(QObject):
        ping = Signal()

    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(_PROBE_EMITS):
        probe.ping.emit()
    lost = before - sys.getrefcount(True)
    # Other code may take or drop a few references meanwhile; a leak loses one per emit.
    return lost >= _PROBE_EMITS // 2


def guard_bool_refcounts() -> bool:
    """Protect `True` and `False` from the emit leak when this PySide6 has it.

    Returns:
        Whether the guard was applied (CPython before 3.12 with a leaking PySide6).
    """
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return False
    if not emit_leaks_true():
        return False

    for value in (True, False):
        # ob_refcnt is the first field of every CPython object, at the object's address.
        count = ctypes.c_ssize_t.from_address(id(value))
        count.value += _RESERVE
    log.debug("PySide6 leaks a reference to True per emit; True and False guarded")
    return True
