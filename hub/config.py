"""Node configuration: one TOML file, loaded once into frozen, validated objects.

Every problem is reported at once (ConfigError.problems), each naming the file and the key.
Secrets never sit in the file as values: a string ``$env:NAME`` or ``$file:PATH`` is a
reference resolved when it is read (see docs/configuration.md).  Relative paths are taken
from the configuration file's own folder.
"""

from __future__ import annotations

import os
import typing
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    Field,
    ValidationError,
    model_validator,
)

from hub import ENV_CONFIG, ENV_DATABASE_URL
from hub.dictionary.loader import use_overlays
from hub.errors import ConfigError
from hub.sections import AdapterSection as _AdapterSection
from hub.sections import (
    AlertsSection,
    ConsoleSection,
    EncryptionSection,
    ForwardSection,
    FujianSection,
    HttpSection,
    ShanxiSection,
    SigningSection,
    TrustSection,
    every_seconds,
)
from hub.sections import Frozen as _Frozen
from hub.suggest import did_you_mean
from hub.tomlfile import read_toml

DEFAULT_DATA_DIR = "hub-data"
LOCAL_CONFIG = "node.toml"  # used when neither --config nor $HUB_CONFIG names one


class NodeSection(_Frozen):
    name: str = "hub"
    platform_code: str = ""  # this node's PUB_SERVICE_PLAT_CODE / platform code
    level: Literal["county", "city", "province", "national"] = "county"


class StoreSection(_Frozen):
    url: str = ""  # empty: SQLite in data_dir
    data_dir: Path = Path(DEFAULT_DATA_DIR)  # SQLite file and raw batches (content-addressed)
    echo: bool = False


class IngestSection(_Frozen):
    chunk_records: int = Field(default=2000, ge=1, le=100_000)
    hold_hours: float = Field(default=72.0, gt=0)  # a held child waits this long for its parent
    max_input_mb: int = Field(default=50, ge=1)
    max_line_mb: int = Field(default=16, ge=1)  # one JSONL record; longer: quarantined unread
    parallel_validation: bool = True  # large inputs: validate in a second process
    # "large": below ~12 MB the second process costs more than it saves (docs/store.md)
    parallel_from_mb: float = Field(default=12, ge=0)


class DictionarySection(_Frozen):
    # provincial overlays from schemas/overlays/ (e.g. "fujian"), applied in this order
    overlays: tuple[str, ...] = ()


class SourceSection(_AdapterSection):
    """A system below this node: how to reach it (adapter + options, checked against the
    adapter's own Options when the configuration loads) and how to read it (mapping)."""

    adapter: str = "files"
    mapping: str | None = None  # a TOML mapping (mappings/); none: the input is spec batches
    platform_code: str | None = None  # the county platform this source speaks for (scoping)


class UpstreamSection(_AdapterSection):
    """The platform above this node, where signed packages go (adapter + options)."""

    adapter: str = "http"


class ScheduleSection(_Frozen):
    """A sync that runs by itself (``hub serve``): a source, and when (``every`` or ``cron``).

    The store is the ledger (docs/operations.md): one run at a time across processes, missed
    ticks recorded, one catch-up after downtime, bounded retries, auto-pause."""

    source: str
    every: str | None = None  # "30s", "15m", "2h", "1d"
    cron: str | None = None  # "0 2 * * *" (minute hour day month weekday)
    timezone: str = "Asia/Shanghai"  # for cron: the node's wall clock
    retries: int = Field(default=3, ge=0, le=10)  # a failed run is tried again this often
    retry_seconds: float = Field(default=60, gt=0)  # first retry; doubles, at most 1 h
    pause_after: int = Field(default=5, ge=1)  # failed ticks in a row: then paused

    @model_validator(mode="after")
    def _one_trigger(self) -> ScheduleSection:
        if (self.every is None) == (self.cron is None):
            raise ValueError("give exactly one of every (e.g. '15m') or cron (e.g. '0 2 * * *')")
        if self.every is not None:
            every_seconds(self.every)
        else:
            from apscheduler.triggers.cron import CronTrigger  # noqa: PLC0415  (only for cron)

            try:
                CronTrigger.from_crontab(self.cron or "", timezone=self.timezone)
            except (ValueError, LookupError) as exc:
                raise ValueError(
                    f"cron {self.cron!r} is not a crontab line (minute hour day month weekday)"
                    f" or timezone {self.timezone!r} is unknown: {exc}"
                ) from exc
        return self


class NodeConfig(_Frozen):
    node: NodeSection = NodeSection()
    store: StoreSection = StoreSection()
    ingest: IngestSection = IngestSection()
    dictionary: DictionarySection = DictionarySection()
    trust: TrustSection = TrustSection()
    signing: SigningSection = SigningSection()
    encryption: EncryptionSection = EncryptionSection()
    http: HttpSection = HttpSection()
    console: ConsoleSection = ConsoleSection()
    alerts: AlertsSection = AlertsSection()
    fujian: FujianSection = FujianSection()
    shanxi: ShanxiSection = ShanxiSection()
    sources: dict[str, SourceSection] = Field(default_factory=dict)
    schedules: dict[str, ScheduleSection] = Field(default_factory=dict)
    upstream: UpstreamSection | None = None
    forward: dict[str, ForwardSection] = Field(default_factory=dict)  # targets (fan-out)
    path: Path | None = None  # the file this came from (None: built-in defaults)

    @model_validator(mode="after")
    def _shanxi_needs_its_overlay(self) -> NodeConfig:
        if self.shanxi.enabled and "shanxi" not in self.dictionary.overlays:
            raise ValueError(
                "[shanxi] enabled needs Shanxi's own fields: add [dictionary] overlays = "
                '["shanxi"] (without it every record from Shanxi is quarantined)'
            )
        return self

    @model_validator(mode="after")
    def _schedules_name_sources(self) -> NodeConfig:
        wrong = [
            f"[schedules.{n}] source: " + did_you_mean(s.source, self.sources, "source")
            for n, s in self.schedules.items()
            if s.source not in self.sources
        ]
        if wrong:
            raise ValueError("; ".join(wrong))
        return self

    @property
    def database_url(self) -> str:
        """``HUB_DATABASE_URL`` wins over the file; the default is SQLite in data_dir."""
        url = os.environ.get(ENV_DATABASE_URL) or self.store.url
        return url or f"sqlite:///{self.store.data_dir / 'hub.db'}"

    @property
    def raw_dir(self) -> Path:
        return self.store.data_dir / "raw"


def _resolve_paths(raw: dict[str, Any], base: Path) -> None:
    """Relative paths are from the file's folder; ``$file:PATH`` is PATH and ``$env:NAME``
    the path in that environment variable (keys and certificates placed by a secret store)."""

    def rel(v: Any) -> Any:
        if isinstance(v, str):
            if v.startswith("$file:"):
                v = v[6:]
            elif v.startswith("$env:"):
                v = resolve_secret(v, f"path {v}")
            p = Path(v)
            return str(p if p.is_absolute() else base / p)
        if isinstance(v, list):
            return [rel(x) for x in v]
        return v

    for src in (raw.get("sources") or {}).values():
        if isinstance(src, dict) and isinstance(src.get("mapping"), str):
            src["mapping"] = rel(src["mapping"])
    for tgt in (raw.get("forward") or {}).values():
        if isinstance(tgt, dict) and "encrypt_to" in tgt:
            tgt["encrypt_to"] = rel(tgt["encrypt_to"])
    enc = raw.get("encryption")
    for pair in enc.get("retired", []) if isinstance(enc, dict) else []:
        if isinstance(pair, dict):
            pair.update({k: rel(v) for k, v in pair.items() if k in ("cert", "key")})
    for section, keys in (
        ("store", ("data_dir",)),
        ("trust", ("anchors", "crls")),
        ("signing", ("key", "cert", "chain")),
        ("encryption", ("key", "cert")),
    ):
        sec = raw.get(section)
        if isinstance(sec, dict):
            for k in keys:
                if k in sec:
                    sec[k] = rel(sec[k])


def load_config(path: Path | None = None, *, check_plugins: bool = True) -> NodeConfig:
    """Load the node configuration from ``path``, ``$HUB_CONFIG``, ``./node.toml`` or the
    built-in defaults, and make its provincial overlays this process's dictionary.

    Sources and upstream are checked too: each adapter's options against its Options model
    and each mapping against the dictionary (``check_plugins=False`` skips that)."""
    if path is None and os.environ.get(ENV_CONFIG):
        path = Path(os.environ[ENV_CONFIG])
    if path is None and Path(LOCAL_CONFIG).is_file():
        path = Path(LOCAL_CONFIG)  # inside a node folder (`hub init`)
    if path is None:
        use_overlays(())
        return NodeConfig()
    raw = read_toml(path)
    _resolve_paths(raw, path.parent)
    try:
        cfg = NodeConfig.model_validate({**raw, "path": path})
    except ValidationError as exc:
        raise ConfigError([_problem(path, e) for e in exc.errors()]) from exc
    cfg = _one_platform_code(cfg, path)
    use_overlays(cfg.dictionary.overlays)  # the dictionary the rest of the process uses
    if check_plugins:
        from hub.sources import check_sources  # noqa: PLC0415  (imports the adapters used)

        problems = check_sources(cfg)
        if problems:
            raise ConfigError(problems)
    return cfg


def _one_platform_code(cfg: NodeConfig, path: Path) -> NodeConfig:
    """This node's platform code is one thing: [node].platform_code, which the signing
    certificate must carry too (a node whose file leaves it empty takes the certificate's).
    Receiving checks packages are addressed to it; verifying, receipts and the service all
    read this one value."""
    if cfg.signing.cert is None or not cfg.signing.cert.exists():
        return cfg  # no certificate yet: signing says so when it is needed
    from hub.package.pki import load_certs  # noqa: PLC0415  (only for nodes that sign)

    try:
        certs = load_certs(cfg.signing.cert.read_bytes())
    except OSError as exc:
        raise ConfigError(f"{path}: [signing].cert cannot be read ({exc.strerror})") from exc
    except Exception as exc:
        raise ConfigError(f"{path}: [signing].cert is not a certificate ({exc})") from exc
    code = certs[0].platform_code if certs else None
    mine = cfg.node.platform_code
    if not code:
        raise ConfigError(
            f"{path}: [signing].cert names no platform code (subject serialNumber); this "
            "node's certificate must carry its platform code"
        )
    if mine and mine != code:
        raise ConfigError(
            f"{path}: [node].platform_code is {mine!r} but [signing].cert is for {code!r}; "
            "they must be the same platform (fix the code or use this node's certificate)"
        )
    return cfg.model_copy(update={"node": cfg.node.model_copy(update={"platform_code": code})})


def _section_keys(loc: list[str]) -> tuple[list[str], str]:
    """The keys valid where ``loc`` points (``sources.NAME`` is a SourceSection)."""
    model: Any = NodeConfig
    parts = iter(loc)
    for part in parts:
        fields = getattr(model, "model_fields", {})
        if part not in fields:
            break
        ann = fields[part].annotation
        if typing.get_origin(ann) is dict:
            ann = typing.get_args(ann)[1]
            next(parts, None)  # the entry's own name
        model = next((a for a in typing.get_args(ann) if isinstance(a, type)), ann)
    keys = [k for k in getattr(model, "model_fields", {}) if k != "path"]
    return keys, "section" if model is NodeConfig else "key"


def _problem(path: Path, e: Any) -> str:
    """One validation error as ``file: [section.key] what (got value)``; an unknown key
    names the close match among the keys valid there."""
    loc = [str(p) for p in e["loc"]]
    where = f"{path}: [{'.'.join(loc)}]"
    if e["type"] == "extra_forbidden":
        keys, what = _section_keys(loc[:-1])
        return f"{where} " + did_you_mean(loc[-1], keys, what)
    return f"{where} {e['msg']} (got {e.get('input')!r})"


def resolve_secret(value: str, where: str) -> str:
    """Resolve a ``$env:NAME`` or ``$file:PATH`` reference; plain values pass through."""
    if value.startswith("$env:"):
        name = value[5:]
        if name not in os.environ:
            raise ConfigError(f"{where}: environment variable {name!r} is not set")
        return os.environ[name]
    if value.startswith("$file:"):
        p = Path(value[6:])
        try:
            return p.read_text("utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{where}: secret file {str(p)!r} cannot be read") from exc
    return value
