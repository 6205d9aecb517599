"""An SSH session for the sftp adapter (paramiko): the login options, the key, the server's
host key checked against ``known_hosts`` (never added automatically; a changed key is a
FatalError naming both fingerprints), key authentication only, connect and read timeouts.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import paramiko
from pydantic import Field

from hub.config import resolve_secret
from hub.errors import ConfigError, FatalError, RetryableError
from hub.interfaces import AdapterContext, AdapterOptions


class SshLogin(AdapterOptions):
    host: str
    port: int = Field(default=22, ge=1, le=65535)
    username: str
    key: Path  # private key file (OpenSSH or PEM; Ed25519, ECDSA or RSA)
    key_passphrase: str = ""  # a $env:/$file: reference
    known_hosts: Path  # the server's host key must be listed here
    connect_timeout: float = Field(default=15, gt=0)
    read_timeout: float = Field(default=60, gt=0)


def fingerprint(key: paramiko.PKey) -> str:
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def load_key(path: Path, passphrase: str | None) -> paramiko.PKey:
    errors = []
    for cls in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            return cls.from_private_key_file(str(path), password=passphrase)
        except paramiko.PasswordRequiredException as exc:
            raise ConfigError(f"private key {str(path)!r} needs key_passphrase") from exc
        except (paramiko.SSHException, ValueError) as exc:
            errors.append(f"{cls.__name__}: {exc}")
        except OSError as exc:
            raise ConfigError(f"private key {str(path)!r} cannot be read ({exc.strerror})") from exc
    raise ConfigError(
        f"private key {str(path)!r} is not a key paramiko reads ({'; '.join(errors)})"
    )


def open_session(
    o: SshLogin, context: AdapterContext, peer: str
) -> tuple[paramiko.SSHClient, paramiko.SFTPClient]:
    """A connected client and its SFTP channel, or the error that says why not."""
    known = context.path(o.known_hosts)
    if not known.is_file():
        raise ConfigError(f"[sources.{context.source}] known_hosts {str(known)!r} is missing")
    passphrase = (
        resolve_secret(o.key_passphrase, f"[sources.{context.source}] key_passphrase")
        if o.key_passphrase
        else None
    )
    pkey = load_key(context.path(o.key), passphrase)
    client = paramiko.SSHClient()
    client.load_host_keys(str(known))
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    try:
        client.connect(
            o.host,
            port=o.port,
            username=o.username,
            pkey=pkey,
            timeout=o.connect_timeout,
            banner_timeout=o.connect_timeout,
            auth_timeout=o.connect_timeout,
            allow_agent=False,
            look_for_keys=False,
        )
    except paramiko.BadHostKeyException as exc:
        client.close()
        raise FatalError(
            f"{peer}: the server's host key changed: {known} has "
            f"{fingerprint(exc.expected_key)}, the server offers {fingerprint(exc.key)}; "
            "if the change is known to be legitimate, replace the line in known_hosts"
        ) from exc
    except paramiko.SSHException as exc:
        client.close()
        if "not found in known_hosts" in str(exc):
            raise FatalError(
                f"{peer}: the server's host key is not in {known}; add it after "
                "checking its fingerprint with the county (ssh-keyscan, then compare)"
            ) from exc
        if isinstance(exc, paramiko.AuthenticationException):
            raise FatalError(f"{peer}: key authentication refused ({exc})") from exc
        raise RetryableError(f"{peer}: {exc}") from exc
    except (OSError, EOFError) as exc:
        client.close()
        raise RetryableError(f"{peer}: cannot connect ({exc})") from exc
    transport = client.get_transport()
    assert transport is not None
    transport.set_keepalive(30)
    # paramiko's default 2 MiB channel window: 8 MiB measured the same on loopback and
    # 16 MiB less than half as fast (bench/sftp.py)
    sftp = client.open_sftp()
    channel = sftp.get_channel()
    assert channel is not None
    channel.settimeout(o.read_timeout)
    return client, sftp
