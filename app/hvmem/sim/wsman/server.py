"""`WsmanServer`: a real HTTP/1.1 WS-Management endpoint on loopback, Basic or NTLM.

pywinrm talks to it exactly as to a Windows host: POST /wsman, SOAP envelopes, keep-alive.
Each response goes out in one write with TCP_NODELAY set, since Nagle's algorithm and
delayed ACKs would otherwise add tens of milliseconds to every exchange.

For tests it counts requests by action and shells opened and closed (`stats`), and it can
delay or fail a given action (`inject`). The HTTP handling itself is in `handler`.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import os
import socket
import ssl
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from hvmem.sim.wsman.handler import Handler, HttpServer
from hvmem.sim.wsman.ntlm import USER_FILE_ENV
from hvmem.sim.wsman.processes import AgentFactory
from hvmem.sim.wsman.soap import WsmanFault
from hvmem.sim.wsman.winrs import WinrsService

log = logging.getLogger("hvmem.sim")


@dataclass(frozen=True)
class WsmanStats:
    """Counters at one moment; `WsmanServer.stats` returns a fresh copy each time.

    Attributes:
        http_requests: every HTTP request, 401s and faults included.
        actions: authenticated SOAP requests by short action ("Send", "Receive", ...).
        auth_failures: requests answered 401.
        faults: requests answered with a SOAP fault.
        shells_opened, shells_closed, commands_started: WinRS events.
        open_shells: shells open now.
        connections: connections served (keep-alive reuses one).
        tcp_accepts: TCP connections accepted, TLS handshakes that failed included.
        tls_failures: TLS handshakes that failed (an untrusting client).
        encrypted_bodies, plain_bodies: authenticated NTLM/HTTP requests whose SOAP
            body came sealed (MS-WSMV multipart/encrypted) or in the clear.
    """

    http_requests: int = 0
    actions: Counter[str] = field(default_factory=Counter)
    auth_failures: int = 0
    faults: int = 0
    shells_opened: int = 0
    shells_closed: int = 0
    commands_started: int = 0
    open_shells: int = 0
    connections: int = 0
    tcp_accepts: int = 0
    tls_failures: int = 0
    encrypted_bodies: int = 0
    plain_bodies: int = 0


@dataclass
class Injection:
    """A planned misbehaviour for the next `times` requests of one action.

    Attributes:
        delay: seconds to sleep before answering.
        fault: answer with this SOAP fault instead of acting.
        status: answer with this bare HTTP status and `body` instead (e.g. a 500 page).
    """

    action: str
    delay: float = 0.0
    fault: WsmanFault | None = None
    status: int | None = None
    body: bytes = b""
    times: int = 1


class WsmanServer:
    """The loopback WS-Management server the simulator sits behind.

    Args:
        agent_factory: makes a fresh line handler for each agent process.
        users: user name -> password accepted by Basic auth (NTLM reads its accounts
            from the file in NTLM_USER_FILE: see `ntlm.write_user_file`).
        host: the address to listen on (loopback).
        port: the port; 0 picks a free one.
        ssl_context: serve HTTPS with this server context.
        receive_wait: the longest an empty Receive waits before the w:TimedOut fault.
        max_shells_per_user: refuse more open shells per user with a quota fault.
        stdin_at_end: simulate a host that delivers a command's stdin only when a Send
            marks its end (a long-lived agent then never answers).
        auth: "basic", or "ntlm" (per connection; sealed bodies over HTTP).
    """

    def __init__(self, agent_factory: AgentFactory, users: dict[str, str],
                 host: str = "127.0.0.1", port: int = 0,
                 ssl_context: ssl.SSLContext | None = None, receive_wait: float = 0.5,
                 max_shells_per_user: int | None = None,
                 stdin_at_end: bool = False,
                 auth: Literal["basic", "ntlm"] = "basic") -> None:
        if auth == "ntlm" and not os.environ.get(USER_FILE_ENV):
            raise ValueError(f"NTLM needs {USER_FILE_ENV}: call ntlm.write_user_file")
        self.auth = auth
        self._users = dict(users)
        self.ssl_context = ssl_context
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._actions: Counter[str] = Counter()
        self._injections: list[Injection] = []
        self._connections: set[socket.socket] = set()
        self._thread: threading.Thread | None = None
        self._httpd = HttpServer((host, port), Handler, self)
        self.url = f"{'https' if ssl_context else 'http'}://{host}:{self.port}/wsman"
        self.winrs = WinrsService(agent_factory, self.url, receive_wait,
                                  max_shells_per_user, self._count_event, stdin_at_end)

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def stats(self) -> WsmanStats:
        with self._lock:
            counts, actions = Counter(self._counts), Counter(self._actions)
        return WsmanStats(
            http_requests=counts["http"], actions=actions,
            auth_failures=counts["auth_failures"], faults=counts["faults"],
            shells_opened=counts["shell_opened"], shells_closed=counts["shell_closed"],
            commands_started=counts["command_started"],
            open_shells=self.winrs.open_shell_count(),
            connections=counts["connections"], tcp_accepts=counts["tcp_accepts"],
            tls_failures=counts["tls_failures"],
            encrypted_bodies=counts["encrypted_bodies"],
            plain_bodies=counts["plain_bodies"],
        )

    def start(self) -> WsmanServer:
        """Serve on a background thread; returns self."""
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.1,),
                                        name=f"wsman-{self.port}", daemon=True)
        self._thread.start()
        log.info("simulated WinRM endpoint listening on %s", self.url)
        return self

    def stop(self) -> None:
        """Stop listening, drop open connections and end every process."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:  # keep-alive connections would otherwise still answer
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.winrs.close_all()

    def __enter__(self) -> WsmanServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def inject(self, action: str, *, delay: float = 0.0, fault: WsmanFault | None = None,
               status: int | None = None, body: bytes = b"", times: int = 1) -> None:
        """Misbehave on the next `times` requests of `action` (e.g. "Receive")."""
        with self._lock:
            self._injections.append(Injection(action, delay, fault, status, body, times))

    def take_injection(self, action: str) -> Injection | None:
        with self._lock:
            for injection in self._injections:
                if injection.action == action:
                    injection.times -= 1
                    if injection.times <= 0:
                        self._injections.remove(injection)
                    return injection
        return None

    def count(self, key: str, action: str | None = None) -> None:
        with self._lock:
            self._counts[key] += 1
            if action is not None:
                self._actions[action] += 1

    def track(self, conn: socket.socket, open_: bool) -> None:
        with self._lock:
            if open_:
                self._connections.add(conn)
                self._counts["connections"] += 1
            else:
                self._connections.discard(conn)

    def authenticate(self, header: str | None) -> str | None:
        """The user a Basic Authorization header names, if its password is right."""
        if not header or not header.lower().startswith("basic "):
            return None
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        user, _, password = decoded.partition(":")
        expected = self._users.get(user)
        if expected is None:
            hmac.compare_digest(password, password)  # same work for unknown users
            return None
        return user if hmac.compare_digest(password.encode(), expected.encode()) else None

    def _count_event(self, event: str) -> None:
        self.count(event)
