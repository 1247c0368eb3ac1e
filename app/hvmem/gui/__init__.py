"""The Qt window: the only package in hvmem that imports Qt (PySide6).

It is a client of `hvmem.hyperv` and `hvmem.controller`: every call to a host goes through
`runner.Runner` on a worker thread, and comes back to the GUI thread by signal.
"""
