"""Talking to a Hyper-V host: the agent protocol, its transports and the typed client.

Nothing in this package imports Qt; the GUI is one client of it, the command line another.
"""
