"""The simulated Hyper-V host: scenarios, the host model, its agent and its WinRM endpoint.

Nothing here imports Qt. The simulator's rules are written independently of the client's
(`hvmem.rules`), so that a property test can check one against the other.
"""
