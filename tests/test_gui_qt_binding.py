"""The Qt binding hvmem is pinned to must not leak references when signals are emitted.

PySide6 6.12.0 on Python 3.11 returned `True` from `Signal.emit` without a reference for
the caller; the window emits thousands of signals a minute on a big host, and CPython
aborted with "bool_dealloc". The probe runs in its own process, since on a leaking
binding it can kill the interpreter that runs it.
"""

import subprocess
import sys

PROBE = """
import sys
from PySide6.QtCore import QObject, Signal

class Probe(QObject):
    ping = Signal()
    value = Signal(int)

probe = Probe()
before_true, before_false = sys.getrefcount(True), sys.getrefcount(False)
for number in range(5000):
    probe.ping.emit()
    probe.value.emit(number)
print(before_true - sys.getrefcount(True), before_false - sys.getrefcount(False))
"""


def test_emitting_signals_keeps_true_and_false_alive() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                          timeout=60)

    assert done.returncode == 0, done.stderr
    lost_true, lost_false = (int(n) for n in done.stdout.split())
    assert (lost_true, lost_false) == (0, 0)
