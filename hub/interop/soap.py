"""The SOAP the provincial services speak, as far as the hub needs it: one document/literal
wrapped operation per call, its arguments as text, a reply or a fault.

Both Fujian's ASP.NET service (UploadData_G_V4) and Shanxi's JAX-WS service (receiveInfo) are
called this way; each names its own namespace and operation (hub/interop/fujian/soap.py,
hub/interop/shanxi/soap.py).  The request is read with DTDs and entities refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from string import Template
from xml.sax.saxutils import escape

from hub.errors import HubError, InputError
from hub.validation.decode import parse_xml

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
MEDIA = {SOAP11: "text/xml; charset=utf-8", SOAP12: "application/soap+xml; charset=utf-8"}


class SoapError(HubError):
    """The request is not a call of the operation (answered with a SOAP fault)."""


@dataclass(frozen=True)
class Call:
    soap_ns: str
    args: dict[str, str]  # by local name; an argument sent empty or not at all is ""


def parse_call(body: bytes, tns: str, operation: str) -> Call:
    try:
        root = parse_xml(body, "SOAP request").getroot()
    except InputError as exc:
        raise SoapError(exc.reason) from exc
    ns = root.tag[1:].split("}", 1)[0] if isinstance(root.tag, str) and "}" in root.tag else ""
    if ns not in (SOAP11, SOAP12) or not root.tag.endswith("}Envelope"):
        raise SoapError("not a SOAP 1.1 or 1.2 Envelope")
    body_el = root.find(f"{{{ns}}}Body")
    op = body_el[0] if body_el is not None and len(body_el) else None
    if op is None or op.tag != f"{{{tns}}}{operation}":
        got = op.tag if op is not None else "nothing"
        raise SoapError(f"the Body calls {got}; this service has {{{tns}}}{operation} only")
    args = {c.tag.split("}")[-1]: c.text or "" for c in op if isinstance(c.tag, str)}
    return Call(ns, args)


def media_of(content_type: str) -> str:
    """The SOAP version a request's Content-Type names (for a fault before it is parsed)."""
    return SOAP12 if "soap+xml" in content_type else SOAP11


def envelope(soap_ns: str, inner: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<soap:Envelope xmlns:soap="{soap_ns}" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema"><soap:Body>'
        f"{inner}</soap:Body></soap:Envelope>"
    ).encode()


def fault(soap_ns: str, text: str) -> bytes:
    if soap_ns == SOAP12:
        inner = (
            "<soap:Code><soap:Value>soap:Sender</soap:Value></soap:Code>"
            f'<soap:Reason><soap:Text xml:lang="en">{escape(text)}</soap:Text></soap:Reason>'
        )
    else:
        inner = f"<faultcode>soap:Client</faultcode><faultstring>{escape(text)}</faultstring>"
    return (
        f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{soap_ns}">'
        f"<soap:Body><soap:Fault>{inner}</soap:Fault></soap:Body></soap:Envelope>"
    ).encode()


def wsdl(package: str, name: str, location: str) -> bytes:
    """A service description shipped with the hub, with this node's address in it."""
    text = (files(package) / name).read_text("utf-8")
    return Template(text).substitute(location=escape(location, {'"': "&quot;"})).encode()
