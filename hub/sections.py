"""The configuration sections of the running service: HTTP, console, alerts, and the
targets records are forwarded to.

Frozen, validated objects like the rest of ``hub.config`` (which gathers them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def every_seconds(text: str) -> int:
    """'15m' -> 900; raises ValueError naming the forms that work."""
    t = text.strip()
    if len(t) >= 2 and t[:-1].isdigit() and t[-1] in _UNITS and int(t[:-1]) > 0:
        return int(t[:-1]) * _UNITS[t[-1]]
    raise ValueError(f"every {text!r} is not a period; expected e.g. '30s', '15m', '2h', '1d'")


class AdapterSection(Frozen):
    adapter: str
    options: dict[str, Any] = Field(default_factory=dict)  # checked by the adapter's Options

    @field_validator("adapter")
    @classmethod
    def _short_name(cls, v: str) -> str:
        if not v.replace("_", "").replace("-", "").isalnum():
            raise ValueError(f"adapter must be a short name such as 'sftp', got {v!r}")
        return v


class ForwardSection(AdapterSection):
    """A platform above this node that accepted records are forwarded to (design §2 step 8).

    Each target has its own outbox, packages, receipts, dead letters and circuit breaker;
    several targets are a fan-out (the national trading platform and the national tendering
    public service platform both get the same records)."""

    adapter: str = "http"
    receiver: str  # the target's platform code: the manifest's receiver
    datasets: tuple[str, ...] = ()  # only these data sets go there; empty: every one
    max_records: int = Field(default=5000, ge=1, le=100_000)  # per package
    every: str = "10s"  # `hub serve` looks for accepted records this often
    breaker_failures: int = Field(default=3, ge=1)  # failed packages in a row open it ...
    breaker_minutes: float = Field(default=10, gt=0)  # ... for this long, then one try
    # the receiving platform's encryption certificate(s): packages go sealed to them (during
    # a rotation list the new and the old one; either key opens the package)
    encrypt_to: tuple[Path, ...] = ()

    @field_validator("receiver")
    @classmethod
    def _code(cls, v: str) -> str:
        if not v.strip() or len(v) > 64 or not v.isalnum():
            raise ValueError(f"receiver must be the target's platform code, got {v!r}")
        return v

    @model_validator(mode="after")
    def _period(self) -> ForwardSection:
        every_seconds(self.every)
        return self


class TrustSection(Frozen):
    """Who signs packages this node accepts (see docs/package-format.md)."""

    anchors: list[Path] = Field(default_factory=list)  # CA certificates (PEM)
    crls: list[Path] = Field(default_factory=list)  # one per CA; missing = refuse (fail closed)
    require_crl: bool = True
    max_signature_age_days: float = Field(default=30, gt=0)


class SigningSection(Frozen):
    """This node's signing identity: PEM key (any family) or PKCS #12 (RSA/ECDSA)."""

    key: Path | None = None
    cert: Path | None = None
    chain: list[Path] = Field(default_factory=list)
    password: str = ""  # a $env:/$file: reference, never the value


class KeyPair(Frozen):
    cert: Path
    key: Path


class EncryptionSection(Frozen):
    """This node's decryption identity: packages sealed to ``cert`` open with ``key``; keys
    rotated out stay in ``retired`` so packages sealed before the rotation still open.
    ``require``: refuse packages that come unencrypted.  ``at_rest``: raw batches and packages
    are kept sealed to ``cert`` in the raw store (docs/operations.md)."""

    cert: Path | None = None
    key: Path | None = None
    password: str = ""  # a $env:/$file: reference for an encrypted key, never the value
    retired: tuple[KeyPair, ...] = ()
    require: bool = False
    at_rest: bool = False

    @model_validator(mode="after")
    def _pair(self) -> EncryptionSection:
        if (self.cert is None) != (self.key is None):
            raise ValueError("[encryption] cert and key go together: set both or neither")
        if (self.require or self.at_rest) and self.cert is None:
            raise ValueError("[encryption] require and at_rest need this node's cert and key")
        return self


def secret_reference(v: str, name: str, what: str) -> str:
    """A setting that names where a secret is, never the secret itself."""
    if not v.startswith(("$env:", "$file:")):
        raise ValueError(f"{name} is a reference ($env:NAME or $file:PATH), never {what}")
    return v


class FujianSystem(Frozen):
    secret: str  # $env:NAME or $file:PATH: the 8-character DES key Fujian issued the system
    source: str  # its records are recorded as from this source

    @field_validator("secret")
    @classmethod
    def _reference(cls, v: str) -> str:
        return secret_reference(v, "secret", "the key")


class FujianSection(Frozen):
    """Fujian's V4 SOAP service (UploadData_G_V4) at /fujian/DataService.asmx, for county
    systems configured for Fujian's hub (docs/interop.md); systems by SYSTEM_NO."""

    enabled: bool = False
    token_hours: float = Field(default=12, gt=0)  # a token's time may be this far from now
    systems: dict[str, FujianSystem] = Field(default_factory=dict)


class ShanxiUser(Frozen):
    key: str  # $env:NAME or $file:PATH: the password Shanxi's platform gave the USERID
    source: str  # its records are recorded as from this source

    @field_validator("key")
    @classmethod
    def _reference(cls, v: str) -> str:
        return secret_reference(v, "key", "the password")


class ShanxiSection(Frozen):
    """Shanxi's public-service platform service (receiveInfo) at /pspde/services/pspdews, for
    trading systems configured for Shanxi (docs/interop.md); callers by USERID.  Needs the
    overlay: [dictionary] overlays = ["shanxi"]."""

    enabled: bool = False
    users: dict[str, ShanxiUser] = Field(default_factory=dict)


class HttpSection(Frozen):
    """`hub serve`: the HTTP service (signed packages in, signed receipts out)."""

    host: str = "127.0.0.1"  # behind a TLS-terminating reverse proxy in production
    port: int = Field(default=8480, ge=0, le=65535)
    max_body_mb: int = Field(default=200, ge=1)  # a package archive's limit (design §8)
    header_timeout_seconds: float = Field(default=10, gt=0)  # request line and headers
    body_idle_seconds: float = Field(default=15, gt=0)  # longest pause while a body arrives
    body_timeout_seconds: float = Field(default=300, gt=0)  # the whole body
    # POST /v1/packages: false: the package's signature alone authenticates its sender (a
    # token, when sent, is still checked); true: a sender also needs its county user's token
    require_push_token: bool = False


class ConsoleSection(Frozen):
    """The administrators' web console under /console (docs/operations.md)."""

    enabled: bool = True
    timezone: str = "Asia/Shanghai"  # times on the pages are shown in this zone
    session_hours: float = Field(default=8, gt=0, le=24 * 30)
    # Secure cookies travel over HTTPS only: keep true behind the TLS proxy; false only for a
    # console reached over plain HTTP on a trusted network
    secure_cookies: bool = True
    max_failures: int = Field(default=5, ge=1)  # failed sign-ins per name or address ...
    lockout_minutes: float = Field(default=15, gt=0)  # ... within this window, then wait

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{v!r} is not an IANA time zone (e.g. Asia/Shanghai)") from exc
        return v


class AlertsSection(Frozen):
    """What is watched (hub/watch/alerts.py) and where alerts are sent besides the console."""

    check_seconds: float = Field(default=60, ge=1)  # `hub serve` looks this often
    expiry_days: tuple[int, ...] = (30, 7, 1)  # a certificate or CRL alerts at each of these
    # a URL that gets each new alert as JSON (POST); $env:NAME / $file:PATH work here too
    webhook: str = ""
    webhook_timeout_seconds: float = Field(default=5, gt=0, le=60)

    @field_validator("webhook")
    @classmethod
    def _http_only(cls, v: str) -> str:
        if v and not v.startswith(("$env:", "$file:", "http://", "https://")):
            raise ValueError("an http:// or https:// URL (or a $env:/$file: reference to one)")
        return v
