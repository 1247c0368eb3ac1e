"""The Qt window: the only package in hvmem that imports Qt (PySide6).

It is a client of `hvmem.hyperv` and `hvmem.controller`: every call to a host goes through
`runner.Runner` on a worker thread, and comes back to the GUI thread by signal.
"""

from hvmem.gui.pyside_guard import guard_bool_refcounts

# Before any window emits a signal: PySide6 6.12 on Python 3.11 would otherwise abort
# the process after a few thousand emits (see pyside_guard).
guard_bool_refcounts()
