"""A loopback WS-Management (WinRS) server that pywinrm talks to, serving the simulator.

`WsmanServer` is the HTTP side; `winrs` holds shells and commands; `processes` runs
hvmem's agent (or refuses anything else); `soap` parses and builds the envelopes.
"""

from hvmem.sim.wsman.processes import AgentFactory, LineHandler
from hvmem.sim.wsman.server import WsmanServer, WsmanStats
from hvmem.sim.wsman.soap import WsmanFault

__all__ = ["AgentFactory", "LineHandler", "WsmanFault", "WsmanServer", "WsmanStats"]
