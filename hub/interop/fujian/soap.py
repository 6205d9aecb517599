"""The SOAP face of Fujian's V4 service, as its ASP.NET web service (DataService.asmx,
namespace http://tempuri.org/) shows it: one operation, ``UploadData_G_V4(validation, data)``
returning a string, over SOAP 1.1 (text/xml, SOAPAction) and SOAP 1.2 (application/soap+xml),
document/literal; its reply string is JSON: ``{"STATUS":"1"}`` or
``{"STATUS":"-1","MSG":"…"}`` (DataManager.UploadData in repository lishanling/GGZY)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from string import Template
from xml.sax.saxutils import escape

from hub.errors import HubError, InputError
from hub.validation.decode import parse_xml

TNS = "http://tempuri.org/"
OPERATION = "UploadData_G_V4"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
MEDIA = {SOAP11: "text/xml; charset=utf-8", SOAP12: "application/soap+xml; charset=utf-8"}


class SoapError(HubError):
    """The request is not a call of the operation (answered with a SOAP fault)."""


@dataclass(frozen=True)
class Call:
    soap_ns: str
    validation: str
    data: str


def parse_call(body: bytes) -> Call:
    try:
        root = parse_xml(body, "SOAP request").getroot()
    except InputError as exc:
        raise SoapError(exc.reason) from exc
    ns = root.tag[1:].split("}", 1)[0] if isinstance(root.tag, str) and "}" in root.tag else ""
    if ns not in (SOAP11, SOAP12) or not root.tag.endswith("}Envelope"):
        raise SoapError("not a SOAP 1.1 or 1.2 Envelope")
    body_el = root.find(f"{{{ns}}}Body")
    op = body_el[0] if body_el is not None and len(body_el) else None
    if op is None or op.tag != f"{{{TNS}}}{OPERATION}":
        got = op.tag if op is not None else "nothing"
        raise SoapError(f"the Body calls {got}; this service has {{{TNS}}}{OPERATION} only")
    args = {c.tag.split("}")[-1]: c.text or "" for c in op if isinstance(c.tag, str)}
    return Call(ns, args.get("validation", ""), args.get("data", ""))


def reply(soap_ns: str, result: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<soap:Envelope xmlns:soap="{soap_ns}" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema"><soap:Body>'
        f'<{OPERATION}Response xmlns="{TNS}"><{OPERATION}Result>{escape(result)}'
        f"</{OPERATION}Result></{OPERATION}Response></soap:Body></soap:Envelope>"
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


def wsdl(location: str) -> bytes:
    """The service description, as ASP.NET writes it for DataService.asmx?WSDL (the file
    beside this module), with this node's address in it."""
    text = (files(__package__) / "DataService.wsdl").read_text("utf-8")
    return Template(text).substitute(location=escape(location, {'"': "&quot;"})).encode()
