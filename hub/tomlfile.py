"""Reading a TOML file that a person wrote (node configuration, mappings, overlays): every
way it can be unreadable is one ConfigError naming the file and what to do."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from hub.errors import ConfigError

MAX_BYTES = 4 * 1024 * 1024  # a configuration or mapping is a few kilobytes


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from exc
    if len(data) > MAX_BYTES:
        raise ConfigError(f"{path}: is over {MAX_BYTES // 1024 // 1024} MB; not a TOML file?")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: is not UTF-8 text (byte {exc.start} is {data[exc.start : exc.start + 1]!r}); "
            "save it as UTF-8 (a GBK editor setting is the usual cause)"
        ) from exc
    if "\x00" in text:
        raise ConfigError(f"{path}: holds a NUL character; it is not a text file")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: is not valid TOML ({exc})") from exc
    except RecursionError as exc:
        raise ConfigError(
            f"{path}: nests arrays or tables too deeply to be a configuration"
        ) from exc
