"""What the record-by-record SOAP targets share (fujian, shanxi): the records of a package in
the manifest's order, the zeep service bound to a description shipped with the hub, and one
call retried on transport errors.

These provinces answer each record on its own, without a signed receipt, so a package is
pushed as one call per record and each answer becomes that record's verdict.  A transport
error or an HTTP 5xx is retried ``max_attempts`` times with doubling waits, then the push is
RetryableError; a SOAP fault is the peer refusing the call itself (FatalError: this node's
configuration or message, not the network).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from importlib.resources import files
from typing import Any, TypeVar

import orjson
import requests
import zeep
from pydantic import Field
from zeep.exceptions import Fault, TransportError
from zeep.transports import Transport

from hub.errors import FatalError, RetryableError
from hub.interfaces import AdapterOptions
from hub.package import archive, manifest

T = TypeVar("T")


class SoapOptions(AdapterOptions):
    url: str = Field(pattern=r"^https?://")  # the service's address
    timeout_seconds: float = Field(default=60, gt=0)
    max_attempts: int = Field(default=4, ge=1, le=20)
    backoff_seconds: float = Field(default=5, ge=0)


def service(package: str, wsdl: str, binding: str, o: SoapOptions) -> Any:
    """The operations of ``binding`` at ``o.url`` (no description is fetched from the peer)."""
    transport = Transport(timeout=o.timeout_seconds, operation_timeout=o.timeout_seconds)
    client = zeep.Client(str(files(package) / wsdl), transport=transport)
    return client.create_service(binding, o.url)


def call(
    o: SoapOptions, operation: str, send: Callable[[], T], sleep: Callable[[float], None]
) -> tuple[T, int]:
    """(the answer of ``send()``, the attempts it took)."""
    last = ""
    for attempt in range(1, o.max_attempts + 1):
        try:
            return send(), attempt
        except (TransportError, requests.RequestException) as exc:
            last = f"{type(exc).__name__}: {exc}"
        except Fault as exc:
            raise FatalError(f"{o.url}: SOAP fault {exc.message!r}") from exc
        if attempt < o.max_attempts:
            sleep(o.backoff_seconds * 2 ** (attempt - 1))
    raise RetryableError(
        f"{o.url}: {operation} failed {o.max_attempts} times: {last}", attempts=o.max_attempts
    )


def records(data: bytes, name: str) -> Iterator[tuple[str, int, str, dict[str, Any]]]:
    """(data set, line, op, fields) of each record of a package, in the manifest's order."""
    entries = dict(archive.read(data, name))
    m = manifest.parse(entries["manifest.json"], name)
    for f in m.files:
        if f.kind != "data" or f.dataset is None:
            continue
        lines = [ln for ln in entries[f.path].split(b"\n") if ln.strip()]
        for i, ln in enumerate(lines, start=1):
            env = orjson.loads(ln)
            yield env["dataset"], i, env.get("op") or "add", env["record"]
