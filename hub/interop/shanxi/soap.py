"""The SOAP face of Shanxi's platform service (PSPDE, a JAX-WS service at
``…/pspde/services/pspdews``, namespace http://server.webservice.pspde.sxca.com/): the
operation ``receiveInfo(arg0 … arg8)``, document/literal wrapped with unqualified argument
elements, SOAP 1.1, SOAPAction "", answering ``receiveInfoResponse/return`` of type
``result{errorCode, errorMessage, receiveTime, success}`` (the client stubs in repository
cdut007/vote-system, app_review/…/platform/webservice/)."""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape

from hub.interop import soap
from hub.interop.shanxi.message import PARAMS

TNS = "http://server.webservice.pspde.sxca.com/"
OPERATION = "receiveInfo"


@dataclass(frozen=True)
class Result:
    success: bool
    error_code: str = ""
    error_message: str = ""
    receive_time: str = ""  # yyyy-MM-dd HH:mm:ss, Beijing time


def parse_call(body: bytes) -> tuple[str, dict[str, str]]:
    """(the SOAP namespace, the arguments by Shanxi's names: USERID, KEY, …)."""
    c = soap.parse_call(body, TNS, OPERATION)
    return c.soap_ns, {name: c.args.get(f"arg{i}", "") for i, name in enumerate(PARAMS)}


def reply(soap_ns: str, r: Result) -> bytes:
    """``receiveInfoResponse``; an empty errorCode or errorMessage is left out, as JAX-WS
    leaves out a null field."""
    parts = (("errorCode", r.error_code), ("errorMessage", r.error_message))
    inner = "".join(f"<{n}>{escape(v)}</{n}>" for n, v in parts if v)
    return soap.envelope(
        soap_ns,
        f'<ns2:{OPERATION}Response xmlns:ns2="{TNS}"><return>{inner}'
        f"<receiveTime>{escape(r.receive_time)}</receiveTime>"
        f"<success>{'true' if r.success else 'false'}</success>"
        f"</return></ns2:{OPERATION}Response>",
    )


def wsdl(location: str) -> bytes:
    return soap.wsdl(__package__ or "hub.interop.shanxi", "PspdeWS.wsdl", location)
