"""http: push signed packages upstream; pull records from a county's REST API (httpx).

Push: ``POST {url}{push_path}`` with the package archive.  200 is delivered (the body is the
peer's signed receipt, kept by the caller); 422 is refused (the body is the signed refusal;
sending it again will not help).  429, 5xx, timeouts and connection errors are retried up to
``max_attempts`` times with exponential backoff and full jitter, waiting what ``Retry-After``
says when the peer says it; then the push fails with RetryableError and the caller writes a
dead-letter entry.  A circuit breaker per peer stops calling a peer that failed
``breaker_failures`` pushes in a row for ``breaker_open_seconds``.

Pull: ``GET {url}{pull_path}?{since_param}=<cursor>`` pages through the county's API.  Each
response is ``{"records": [...], "next": "<cursor>" | null}``; a page becomes one batch (its
records as JSONL, the raw evidence) whose cursor is the page's ``next``, committed with its
data.  The records are the county's own rows: the source's mapping turns them into data sets.
"""

from __future__ import annotations

import email.utils
import functools
import random
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import ClassVar

import httpx
import orjson
from pydantic import Field

from hub.config import resolve_secret
from hub.errors import FatalError, InputError, RetryableError
from hub.ingest.outcome import Verdict
from hub.interfaces import Adapter, AdapterOptions, Batch, PushResult

RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


class HttpOptions(AdapterOptions):
    url: str = Field(pattern=r"^https?://")  # the peer's base URL
    push_path: str = "/v1/packages"
    pull_path: str = "/records"
    since_param: str = "since"
    # pulling: where each page's verdicts are POSTed back (JSON); empty: not sent
    receipt_path: str = ""
    token: str = ""  # a $env:/$file: reference; sent as "Authorization: Bearer ..."
    connect_timeout: float = Field(default=10, gt=0)
    read_timeout: float = Field(default=120, gt=0)
    max_attempts: int = Field(default=6, ge=1, le=20)
    backoff_seconds: float = Field(default=30, ge=0)  # first wait; doubles each attempt
    backoff_max_seconds: float = Field(default=6 * 3600, ge=0)
    breaker_failures: int = Field(default=5, ge=1)
    breaker_open_seconds: float = Field(default=300, ge=0)
    verify_tls: bool = True


@dataclass
class _Breaker:
    failures: int = 0
    open_until: float = 0.0


@functools.lru_cache(maxsize=2)
def _tls(verify: bool) -> ssl.SSLContext:
    """The TLS context, built once per process and setting: httpx builds one for every client
    otherwise, reading the CA bundle again (22 ms measured), and forwarding opens a client
    per package pushed."""
    return httpx.create_ssl_context(verify=verify)


class HttpAdapter(Adapter):
    name = "http"
    Options = HttpOptions
    options: HttpOptions
    ordered = True
    # one breaker per peer URL, shared by every adapter in this process
    _breakers: ClassVar[dict[str, _Breaker]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()
    sleep: Callable[[float], None] = staticmethod(time.sleep)  # tests record the waits

    def _client(self) -> httpx.Client:
        o = self.options
        headers = {"User-Agent": "ggzy-exchange-hub"}
        if o.token:
            token = resolve_secret(o.token, f"[{self.context.source}] options.token")
            headers["Authorization"] = f"Bearer {token}"
        timeout = httpx.Timeout(o.read_timeout, connect=o.connect_timeout)
        return httpx.Client(
            base_url=o.url.rstrip("/"), headers=headers, timeout=timeout, verify=_tls(o.verify_tls)
        )

    # -- the circuit breaker -----------------------------------------------------------------
    def _breaker(self) -> _Breaker:
        with self._lock:
            return self._breakers.setdefault(self.options.url, _Breaker())

    def _record(self, ok: bool) -> None:
        b = self._breaker()
        with self._lock:
            if ok:
                b.failures, b.open_until = 0, 0.0
            else:
                b.failures += 1
                if b.failures >= self.options.breaker_failures:
                    b.open_until = time.monotonic() + self.options.breaker_open_seconds

    def _wait(self, attempt: int, retry_after: float | None) -> float:
        o = self.options
        if retry_after is not None:
            return min(retry_after, o.backoff_max_seconds)
        ceiling = min(o.backoff_max_seconds, o.backoff_seconds * 2 ** (attempt - 1))
        return random.uniform(0, ceiling)  # full jitter

    # -- push --------------------------------------------------------------------------------
    def push(self, name: str, data: bytes) -> PushResult:
        o = self.options
        b = self._breaker()
        if b.open_until > time.monotonic():
            raise RetryableError(
                f"{o.url}: circuit open after {b.failures} failed pushes in a row; "
                f"next try in {b.open_until - time.monotonic():.0f} s",
                attempts=0,
            )
        last = ""
        with self._client() as client:
            for attempt in range(1, o.max_attempts + 1):
                retry_after = None
                try:
                    r = client.post(
                        o.push_path,
                        content=data,
                        headers={"Content-Type": _media_type(name), "X-Package-Name": name},
                    )
                except httpx.TransportError as exc:  # connect, read, write, pool timeouts too
                    last = f"{type(exc).__name__}: {exc}"
                else:
                    if r.status_code == 200:
                        self._record(True)
                        return PushResult(True, "200", r.content, attempts=attempt)
                    if r.status_code == 422:
                        self._record(True)  # the peer is healthy; the package was refused
                        return PushResult(False, "422 refused", r.content, r.text[:300], attempt)
                    if r.status_code not in RETRY_STATUS:
                        self._record(False)
                        raise FatalError(
                            f"{o.url}{o.push_path}: HTTP {r.status_code} for {name!r}: "
                            f"{r.text[:300]!r}; expected 200 (receipt) or 422 (refusal)"
                        )
                    last = f"HTTP {r.status_code}"
                    retry_after = _retry_after(r.headers.get("Retry-After"))
                if attempt < o.max_attempts:
                    self.sleep(self._wait(attempt, retry_after))
        self._record(False)
        raise RetryableError(
            f"{o.url}{o.push_path}: {name!r} not delivered after "
            f"{o.max_attempts} attempts; last: {last}",
            attempts=o.max_attempts,
        )

    # -- pull --------------------------------------------------------------------------------
    def status(self, package_id: str, sha256: str) -> bytes | None:
        """``GET {url}/v1/packages/{id}/status`` (a hub: the receipt with held lines brought
        up to date), proving the package is ours by its archive SHA-256; None if it fails."""
        path = f"{self.options.push_path.rstrip('/')}/{package_id}/status"
        try:
            with self._client() as client:
                r = client.get(path, headers={"Hub-Package-Sha256": sha256})
        except httpx.TransportError:
            return None
        return r.content if r.status_code == 200 else None

    def pull(self, cursor: str | None) -> Iterator[Batch]:
        o = self.options
        with self._client() as client:
            since = cursor
            while True:
                params = {o.since_param: since} if since else {}
                page = self._get(client, params)
                records = page.get("records")
                nxt = page.get("next")
                if not isinstance(records, list) or not (nxt is None or isinstance(nxt, str)):
                    raise InputError(
                        f"{o.url}{o.pull_path}",
                        'expected {"records": [...], "next": "<cursor>" or null}',
                        code="json.shape",
                    )
                if not records:
                    return
                data = b"".join(orjson.dumps(r) + b"\n" for r in records)
                yield Batch(
                    name=o.pull_path.rstrip("/").rsplit("/", 1)[-1] or "records",
                    origin=f"{o.url}{o.pull_path}?{o.since_param}={since or ''}",
                    data=data,
                    fmt="jsonl",
                    cursor=nxt or since,
                    size=len(data),
                )
                if nxt is None or nxt == since:
                    return
                since = nxt

    def verdicts(self, batch: Batch, verdicts: list[Verdict]) -> str | None:
        """POST the page's verdicts to ``receipt_path``: ``{"batch": origin, "verdicts": [{
        "record", "dataset", "key", "outcome", "version", "rule", "field", "value",
        "message"}]}``.  The page is committed already: a failure is reported, not retried
        (the verdicts stay in the hub's store)."""
        o = self.options
        if not o.receipt_path or not verdicts:
            return None
        body = {
            "batch": batch.origin,
            "verdicts": [v.as_row() for v in verdicts],
        }
        where = f"{o.url}{o.receipt_path}"
        try:
            with self._client() as client:
                r = client.post(
                    o.receipt_path,
                    content=orjson.dumps(body),
                    headers={"Content-Type": "application/json"},
                )
        except httpx.TransportError as exc:
            return f"not sent to {where}: {type(exc).__name__}: {exc}"
        if r.status_code >= 300:
            return f"not taken by {where}: {r.status_code} {r.text[:200]}"
        return f"{where} ({len(verdicts)} verdict(s))"

    def _get(self, client: httpx.Client, params: dict[str, str]) -> dict[str, object]:
        o = self.options
        last = ""
        for attempt in range(1, o.max_attempts + 1):
            retry_after = None
            try:
                r = client.get(o.pull_path, params=params)
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}"
            else:
                if r.status_code == 200:
                    try:
                        page = orjson.loads(r.content)
                    except orjson.JSONDecodeError as exc:
                        raise InputError(
                            str(r.url), f"not JSON: {exc}", code="json.syntax"
                        ) from exc
                    if not isinstance(page, dict):
                        raise InputError(str(r.url), "expected a JSON object", code="json.shape")
                    return page
                if r.status_code not in RETRY_STATUS:
                    raise FatalError(f"{r.url}: HTTP {r.status_code}: {r.text[:300]!r}")
                last = f"HTTP {r.status_code}"
                retry_after = _retry_after(r.headers.get("Retry-After"))
            if attempt < o.max_attempts:
                self.sleep(self._wait(attempt, retry_after))
        raise RetryableError(
            f"{o.url}{o.pull_path}: {o.max_attempts} attempts failed; last: {last}"
        )


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _media_type(name: str) -> str:
    """A package archive, or one encrypted to the receiver (CMS, RFC 8551's media type)."""
    return "application/pkcs7-mime" if name.endswith(".p7m") else "application/zip"
