"""The SOAP face of Fujian's V4 service, as its ASP.NET web service (DataService.asmx,
namespace http://tempuri.org/) shows it: one operation, ``UploadData_G_V4(validation, data)``
returning a string, over SOAP 1.1 (text/xml, SOAPAction) and SOAP 1.2 (application/soap+xml),
document/literal; its reply string is JSON: ``{"STATUS":"1"}`` or
``{"STATUS":"-1","MSG":"…"}`` (DataManager.UploadData in repository lishanling/GGZY)."""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape

from hub.interop import soap
from hub.interop.soap import MEDIA, SOAP11, SOAP12, SoapError, fault

__all__ = ["MEDIA", "SOAP11", "SOAP12", "SoapError", "fault", "parse_call", "reply", "wsdl"]

TNS = "http://tempuri.org/"
OPERATION = "UploadData_G_V4"


@dataclass(frozen=True)
class Call:
    soap_ns: str
    validation: str
    data: str


def parse_call(body: bytes) -> Call:
    c = soap.parse_call(body, TNS, OPERATION)
    return Call(c.soap_ns, c.args.get("validation", ""), c.args.get("data", ""))


def reply(soap_ns: str, result: str) -> bytes:
    return soap.envelope(
        soap_ns,
        f'<{OPERATION}Response xmlns="{TNS}"><{OPERATION}Result>{escape(result)}'
        f"</{OPERATION}Result></{OPERATION}Response>",
    )


def wsdl(location: str) -> bytes:
    """The service description, as ASP.NET writes it for DataService.asmx?WSDL (the file
    beside this module), with this node's address in it."""
    return soap.wsdl(__package__ or "hub.interop.fujian", "DataService.wsdl", location)
