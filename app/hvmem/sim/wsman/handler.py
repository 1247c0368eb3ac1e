"""The HTTP side of the loopback WS-Management server: one handler per TCP connection.

It reads each POST, authenticates it (Basic on every request, or NTLM once per
connection with MS-WSMV sealing over HTTP), hands the SOAP envelope to `WinrsService`,
and writes the answer, sealed when the request was, in one write.
"""

from __future__ import annotations

import http.server
import logging
import socket
import ssl
import time
from typing import TYPE_CHECKING, Any

from hvmem.sim.wsman.ntlm import (
    ENCRYPTED_TYPE,
    NtlmConnection,
    NtlmRefused,
    SealError,
    is_encrypted,
)
from hvmem.sim.wsman.soap import (
    RESPONSE_ACTIONS,
    WsmanFault,
    envelope,
    fault_envelope,
    message_id_of,
    parse_request,
)

if TYPE_CHECKING:
    from hvmem.sim.wsman.server import WsmanServer

log = logging.getLogger("hvmem.sim")

MAX_BODY = 1_000_000  # well above pywinrm's 153600-byte MaxEnvelopeSize
SOAP_TYPE = "application/soap+xml;charset=UTF-8"


class HttpServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type, owner: WsmanServer,
                 ) -> None:
        self.owner = owner
        super().__init__(address, handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        """Accept, and shake hands for TLS here, so failed handshakes are counted."""
        conn, address = self.socket.accept()
        self.owner.count("tcp_accepts")
        context = self.owner.ssl_context
        if context is None:
            return conn, address
        try:
            conn.settimeout(10)  # a client that never shakes hands cannot stall serving
            wrapped = context.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError):
            self.owner.count("tls_failures")
            conn.close()
            raise
        wrapped.settimeout(None)
        return wrapped, address


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "Microsoft-HTTPAPI/2.0"
    sys_version = ""
    server: HttpServer

    def setup(self) -> None:
        super().setup()
        self.ntlm = NtlmConnection()  # NTLM state lives as long as the connection
        self.seal_replies = False
        self.server.owner.track(self.connection, True)

    def finish(self) -> None:
        self.server.owner.track(self.connection, False)
        super().finish()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        log.debug("wsman %s " + format, self.client_address[0], *args)

    def do_GET(self) -> None:
        self.server.owner.count("http")
        self._reply(405, b"", extra={"Allow": "POST"})

    def do_POST(self) -> None:
        owner = self.server.owner
        owner.count("http")
        body = self._read_body()
        if body is None:
            return
        if self.path.split("?", 1)[0].lower() != "/wsman":
            self._reply(404, b"")
            return

        self.seal_replies = False
        if owner.auth == "ntlm":
            self._ntlm_post(owner, body)
            return
        user = owner.authenticate(self.headers.get("Authorization"))
        if user is None:
            owner.count("auth_failures")
            self._reply(401, b"", extra={"WWW-Authenticate": 'Basic realm="WSMAN"'})
            return
        self._soap(owner, body, user)

    def _ntlm_post(self, owner: WsmanServer, body: bytes) -> None:
        user = self._ntlm_user(owner)
        if user is None:
            return
        opened = self._opened(owner, body)
        if opened is None:
            return
        if not opened:  # pywinrm's empty POST that finishes the handshake
            self._reply(200, b"")
            return
        self._soap(owner, opened, user)

    def _ntlm_user(self, owner: WsmanServer) -> str | None:
        """The connection's NTLM user, or None after answering a 401 leg."""
        header = self.headers.get("Authorization") or ""
        if header.split(" ", 1)[0].lower() in ("negotiate", "ntlm"):
            try:
                scheme, token = self.ntlm.step(header)
            except NtlmRefused as exc:
                owner.count("auth_failures")
                log.info("wsman: NTLM refused: %s", exc)
                self._reply(401, b"", extra={"WWW-Authenticate": "Negotiate"})
                return None
            if token is not None:
                self._reply(401, b"", extra={"WWW-Authenticate": f"{scheme} {token}"})
                return None
            return self.ntlm.user
        if self.ntlm.authenticated:
            return self.ntlm.user
        self._reply(401, b"", extra={"WWW-Authenticate": "Negotiate"})
        return None

    def _opened(self, owner: WsmanServer, body: bytes) -> bytes | None:
        """The plain envelope of an NTLM request, or None after refusing it (400)."""
        if is_encrypted(self.headers.get("Content-Type")):
            try:
                plain = self.ntlm.unseal(body)
            except SealError as exc:
                log.info("wsman: refused an encrypted body: %s", exc)
                self._reply(400, b"")
                return None
            owner.count("encrypted_bodies")
            self.seal_replies = True
            return plain
        if body and owner.ssl_context is None:
            # Like a host with AllowUnencrypted=false: NTLM over HTTP must seal.
            owner.count("plain_bodies")
            self._reply(400, b"")
            return None
        return body

    def _soap(self, owner: WsmanServer, body: bytes, user: str) -> None:
        relates_to = message_id_of(body)
        try:
            request = parse_request(body)
            relates_to = request.message_id
            owner.count("soap", request.short_action)
            injection = owner.take_injection(request.short_action)
            if injection is not None:
                time.sleep(injection.delay)
                if injection.status is not None:
                    self._reply(injection.status, injection.body, "text/html")
                    return
                if injection.fault is not None:
                    raise injection.fault
            answer = owner.winrs.handle(request, user)
            action = RESPONSE_ACTIONS.get(request.short_action,
                                          request.action + "Response")
            self._reply(200, envelope(action, relates_to, answer))
        except WsmanFault as fault:
            self._fault(owner, fault, relates_to)
        except Exception as exc:  # a simulator bug: answer like a host's internal error
            log.exception("simulated WinRM endpoint failed on a request")
            self._fault(owner, WsmanFault("s:Receiver", "w:InternalError",
                                          f"The simulated host failed: {exc!r}"),
                        relates_to)

    def _fault(self, owner: WsmanServer, fault: WsmanFault, relates_to: str) -> None:
        owner.count("faults")
        log.debug("wsman fault %s: %s", fault.subcode, fault.reason)
        self._reply(500, fault_envelope(fault, relates_to, "127.0.0.1"))

    def _read_body(self) -> bytes | None:
        try:
            length = int(self.headers.get("Content-Length") or "0")
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self._reply(400, b"", extra={"Connection": "close"})
            self.close_connection = True
            return None
        return self.rfile.read(length) if length else b""

    def _reply(self, status: int, body: bytes, content_type: str = SOAP_TYPE,
               extra: dict[str, str] | None = None) -> None:
        reason = self.responses.get(status, ("",))[0]
        if self.seal_replies and body:  # answers and faults alike
            body, content_type = self.ntlm.seal(body), ENCRYPTED_TYPE
        headers = {"Server": self.server_version, "Content-Length": str(len(body))}
        if body:
            headers["Content-Type"] = content_type
        headers.update(extra or {})
        head = f"HTTP/1.1 {status} {reason}\r\n" + "".join(
            f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n"
        self.log_request(status, len(body))
        self.wfile.write(head.encode("latin-1") + body)  # one write: no Nagle stalls
