"""SOAP for the loopback WS-Management server: parse requests, build responses and faults.

Only what pywinrm (and pypsrp's WinRS layer) send and read is covered: the WinRS actions
on the `shell/cmd` resource. Responses copy the shapes of real Windows answers, because
pywinrm reads them loosely (any element named like ``ShellId`` or ``CommandId``) but
asserts that ``a:RelatesTo`` echoes the request's ``a:MessageID`` on Signal and Delete.
"""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "x": "http://schemas.xmlsoap.org/ws/2004/09/transfer",
    "w": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    "p": "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd",
    "rsp": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
    "f": "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault",
}
SHELL_URI = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
CMD_RESOURCE_URI = SHELL_URI + "/cmd"
TRANSFER_URI = "http://schemas.xmlsoap.org/ws/2004/09/transfer"
ANONYMOUS = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
FAULT_ACTION = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"
SIGNAL_TERMINATE = SHELL_URI + "/signal/terminate"
STATE_DONE = SHELL_URI + "/CommandState/Done"
STATE_RUNNING = SHELL_URI + "/CommandState/Running"

# Full action URIs by the short names the server, its stats and its fault hooks use.
ACTIONS = {
    TRANSFER_URI + "/Create": "Create",
    TRANSFER_URI + "/Delete": "Delete",
    SHELL_URI + "/Command": "Command",
    SHELL_URI + "/Send": "Send",
    SHELL_URI + "/Receive": "Receive",
    SHELL_URI + "/Signal": "Signal",
}
RESPONSE_ACTIONS = {short: uri + "Response" for uri, short in ACTIONS.items()}

_DURATION = re.compile(r"^PT(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?$")


class WsmanFault(Exception):
    """A SOAP fault the server answers with (HTTP 500), shaped like Windows' own.

    Attributes:
        code: the SOAP code, ``s:Sender`` or ``s:Receiver``.
        subcode: the WS-Management subcode, such as ``w:TimedOut``.
        reason: the text of ``s:Reason``.
        wsman_code: the number in ``f:WSManFault/@Code``, if any.
    """

    def __init__(self, code: str, subcode: str, reason: str,
                 wsman_code: int | None = None) -> None:
        super().__init__(reason)
        self.code = code
        self.subcode = subcode
        self.reason = reason
        self.wsman_code = wsman_code

    @classmethod
    def timed_out(cls) -> WsmanFault:
        return cls("s:Receiver", "w:TimedOut",
                   "The WS-Management service cannot complete the operation within the "
                   "time specified in OperationTimeout.", 2150858793)

    @classmethod
    def invalid_selectors(cls, what: str) -> WsmanFault:
        return cls("s:Sender", "w:InvalidSelectors",
                   f"The WS-Management service cannot process the request because the "
                   f"request contained invalid selectors for the resource. {what}",
                   2150858843)

    @classmethod
    def schema_validation(cls, detail: str) -> WsmanFault:
        return cls("s:Sender", "w:SchemaValidationError",
                   f"The SOAP XML in the message does not match the corresponding XML "
                   f"schema definition. {detail}", 2150858817)

    @classmethod
    def access_denied(cls) -> WsmanFault:
        return cls("s:Receiver", "w:InternalError", "Access is denied. ", 2147942405)

    @classmethod
    def shell_quota(cls, limit: int) -> WsmanFault:
        return cls("s:Receiver", "w:QuotaLimit",
                   f"The WS-Management service cannot process the request. This user is "
                   f"allowed a maximum number of {limit} concurrent shells, which has "
                   f"been exceeded. Close existing shells or raise the quota for this "
                   f"user. ",
                   2150859173)

    @classmethod
    def action_not_supported(cls, action: str) -> WsmanFault:
        return cls("s:Sender", "a:ActionNotSupported",
                   f"The action is not supported by the service: {action}", 2150858772)


@dataclass
class SoapRequest:
    """The parts of a WS-Management request the server acts on."""

    action: str
    message_id: str
    resource_uri: str
    shell_id: str | None
    operation_timeout: float | None
    options: dict[str, str] = field(default_factory=dict)
    body: ET.Element | None = None

    @property
    def short_action(self) -> str:
        return ACTIONS.get(self.action, self.action.rsplit("/", 1)[-1] or "?")


def message_id_of(data: bytes) -> str:
    """The MessageID of a request that may not parse, so a fault can relate to it."""
    found = re.search(rb"<(?:\w+:)?MessageID[^>]*>([^<]{1,200})<", data)
    return found.group(1).decode("utf-8", "replace").strip() if found else ""


def parse_request(data: bytes) -> SoapRequest:
    """Read a request envelope.

    Raises:
        WsmanFault: SchemaValidationError for XML that does not parse or lacks a header.
    """
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise WsmanFault.schema_validation(f"The XML does not parse: {exc}.") from exc

    header = root.find("s:Header", NS)
    if root.tag != f"{{{NS['s']}}}Envelope" or header is None:
        raise WsmanFault.schema_validation("The message is not a SOAP 1.2 envelope.")

    options = {
        str(node.get("Name")): (node.text or "").strip()
        for node in header.findall("w:OptionSet/w:Option", NS)
    }
    shell_id = None
    for node in header.findall("w:SelectorSet/w:Selector", NS):
        if node.get("Name") == "ShellId":
            shell_id = (node.text or "").strip()
    return SoapRequest(
        action=_text(header, "a:Action"),
        message_id=_text(header, "a:MessageID"),
        resource_uri=_text(header, "w:ResourceURI"),
        shell_id=shell_id,
        operation_timeout=parse_duration(_text(header, "w:OperationTimeout")),
        options=options,
        body=root.find("s:Body", NS),
    )


def parse_duration(text: str) -> float | None:
    """Seconds in an xs:duration of the form pywinrm sends (``PT20S``, ``PT1M30.5S``)."""
    found = _DURATION.match(text.strip())
    if not text or not found:
        return None
    minutes, seconds = found.groups()
    return float(minutes or 0) * 60 + float(seconds or 0)


def envelope(action: str, relates_to: str, body: str = "") -> bytes:
    """A response envelope: fresh MessageID, RelatesTo = the request's MessageID."""
    namespaces = " ".join(f"xmlns:{prefix}={quoteattr(uri)}"
                          for prefix, uri in NS.items())
    text = (
        f'<s:Envelope {namespaces} xml:lang="en-US"><s:Header>'
        f"<a:Action>{escape(action)}</a:Action>"
        f"<a:MessageID>uuid:{str(uuid.uuid4()).upper()}</a:MessageID>"
        f"<a:To>{ANONYMOUS}</a:To>"
        f"<a:RelatesTo>{escape(relates_to)}</a:RelatesTo>"
        f"</s:Header><s:Body>{body}</s:Body></s:Envelope>"
    )
    return text.encode("utf-8")


def fault_envelope(fault: WsmanFault, relates_to: str, machine: str) -> bytes:
    """The body of an HTTP 500 answer for `fault`."""
    code_attr = f' Code="{fault.wsman_code}"' if fault.wsman_code is not None else ""
    body = (
        f"<s:Fault><s:Code><s:Value>{fault.code}</s:Value>"
        f"<s:Subcode><s:Value>{fault.subcode}</s:Value></s:Subcode></s:Code>"
        f'<s:Reason><s:Text xml:lang="en-US">{escape(fault.reason)}</s:Text></s:Reason>'
        f"<s:Detail><f:WSManFault{code_attr} Machine={quoteattr(machine)}>"
        f"<f:Message>{escape(fault.reason)}</f:Message></f:WSManFault></s:Detail>"
        f"</s:Fault>"
    )
    return envelope(FAULT_ACTION, relates_to, body)


def _text(parent: ET.Element, path: str) -> str:
    node = parent.find(path, NS)
    return (node.text or "").strip() if node is not None else ""
