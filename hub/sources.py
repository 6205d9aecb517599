"""The systems below this node: their adapters, options and mappings, checked when the
configuration loads (every problem at once) and opened by name for a sync run."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from hub import plugins
from hub.errors import ConfigError
from hub.interfaces import Adapter, AdapterContext, AdapterOptions
from hub.suggest import did_you_mean

if TYPE_CHECKING:
    from hub.config import NodeConfig, SourceSection, UpstreamSection
    from hub.mapping import Mapping
    from hub.sections import ForwardSection


def adapter_class(name: str) -> type[Adapter]:
    cls = plugins.load(plugins.ADAPTERS, name)
    if not (isinstance(cls, type) and issubclass(cls, Adapter)):
        raise ConfigError(f"the {name!r} plugin is not an Adapter class")
    return cls


def parse_options(cls: type[Adapter], options: dict[str, object], where: str) -> AdapterOptions:
    try:
        return cls.Options.model_validate(options)
    except ValidationError as exc:
        raise ConfigError(
            [
                f"{where} options.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                f" (got {e.get('input')!r})"
                for e in exc.errors()
            ]
        ) from exc


def check_sources(cfg: NodeConfig) -> list[str]:
    """Every problem with the configured sources and upstream: adapters, options, mappings."""
    from hub.mapping import check_mapping  # noqa: PLC0415  (the dictionary loads lazily)

    where_file = f"{cfg.path}: " if cfg.path else ""
    problems: list[str] = []
    sections: list[tuple[str, SourceSection | UpstreamSection | ForwardSection]] = [
        (f"[sources.{n}]", s) for n, s in cfg.sources.items()
    ]
    if cfg.upstream is not None:
        sections.append(("[upstream]", cfg.upstream))
    sections += [(f"[forward.{n}]", t) for n, t in cfg.forward.items()]
    problems += _forward_datasets(cfg, where_file)
    for where, src in sections:
        try:
            cls = adapter_class(src.adapter)
        except ConfigError as exc:
            problems += [f"{where_file}{where} adapter: {p}" for p in exc.problems]
        else:
            try:
                parse_options(cls, src.options, where)
            except ConfigError as exc:
                problems += [f"{where_file}{p}" for p in exc.problems]
        mapping = getattr(src, "mapping", None)  # sources have one, the upstream not
        if mapping is not None:
            problems += check_mapping(Path(mapping)).errors
    return problems


def _forward_datasets(cfg: NodeConfig, where_file: str) -> list[str]:
    from hub.dictionary.loader import load_dictionary  # noqa: PLC0415  (loads lazily)

    known = load_dictionary().datasets
    return [
        f"{where_file}[forward.{n}] datasets: " + did_you_mean(ds, known, "data set")
        for n, t in cfg.forward.items()
        for ds in t.datasets
        if ds not in known
    ]


def context(cfg: NodeConfig, name: str) -> AdapterContext:
    base = cfg.path.parent if cfg.path else Path.cwd()
    work = cfg.store.data_dir / "adapters" / name
    work.mkdir(parents=True, exist_ok=True)
    return AdapterContext(name, base, work)


def source(cfg: NodeConfig, name: str) -> SourceSection:
    if name not in cfg.sources:
        where = f" in {cfg.path}" if cfg.path else " (no configuration: --config or $HUB_CONFIG)"
        raise ConfigError(did_you_mean(name, cfg.sources, "source") + where)
    return cfg.sources[name]


def open_adapter(cfg: NodeConfig, name: str) -> Adapter:
    src = source(cfg, name)
    cls = adapter_class(src.adapter)
    return cls(parse_options(cls, src.options, f"[sources.{name}]"), context(cfg, name))


def open_upstream(cfg: NodeConfig) -> Adapter:
    if cfg.upstream is None:
        raise ConfigError("no [upstream] is configured: this node forwards to nobody")
    cls = adapter_class(cfg.upstream.adapter)
    return cls(parse_options(cls, cfg.upstream.options, "[upstream]"), context(cfg, "upstream"))


def open_target(cfg: NodeConfig, name: str) -> Adapter:
    """The adapter that pushes packages to forwarding target ``name`` (``[forward.NAME]``)."""
    if name not in cfg.forward:
        where = f" in {cfg.path}" if cfg.path else ""
        raise ConfigError(did_you_mean(name, cfg.forward, "forwarding target") + where)
    t = cfg.forward[name]
    cls = adapter_class(t.adapter)
    return cls(parse_options(cls, t.options, f"[forward.{name}]"), context(cfg, f"forward-{name}"))


def mapping_of(cfg: NodeConfig, name: str) -> Mapping | None:
    from hub.mapping import load_mapping  # noqa: PLC0415

    src = cfg.sources.get(name)
    return load_mapping(Path(src.mapping)) if src and src.mapping else None
