"""Reading a request body within limits of size and time, decoding gzip transport encoding.

A body must keep arriving (at most ``idle`` seconds between parts) and be whole within
``total`` seconds (408 otherwise), and may not exceed ``limit`` bytes, before or after
decoding (413).  ``Content-Encoding: gzip`` is decoded incrementally within the same limit;
any other encoding is refused (415).  The body's media type must be one an archive travels
as (or none): a form upload or a JSON or HTML body is refused (415) with what to send instead.
"""

from __future__ import annotations

import asyncio
import time
import zlib
from collections.abc import AsyncIterator

from fastapi import HTTPException

# a package's media types: the archive (application/zip and the names Windows tools give it),
# a sealed package (application/pkcs7-mime), bytes, and what `curl --data-binary` sends unasked
ARCHIVE_TYPES = frozenset(
    {
        "application/zip",
        "application/x-zip-compressed",
        "application/pkcs7-mime",
        "application/octet-stream",
        "application/x-www-form-urlencoded",
    }
)


def check_media_type(value: str | None) -> None:
    """415 unless ``value`` (a Content-Type header) is absent or a package's media type."""
    media = (value or "").split(";")[0].strip().lower()
    if not media or media in ARCHIVE_TYPES:
        return
    if media == "multipart/form-data":
        raise HTTPException(
            415,
            "the package was sent as a form upload (multipart/form-data); send the archive "
            "itself as the body: curl --data-binary @PACKAGE.zip -H 'Content-Type: "
            "application/zip' URL/v1/packages",
        )
    raise HTTPException(
        415,
        f"Content-Type {media!r} is not a package; send the signed archive as "
        "application/zip (a sealed one as application/pkcs7-mime)",
    )


async def read_body(
    stream: AsyncIterator[bytes],
    encoding: str | None,
    *,
    limit: int,
    idle: float,
    total: float,
) -> bytes:
    enc = (encoding or "identity").strip().lower()
    if enc not in ("identity", "gzip", "x-gzip"):
        raise HTTPException(415, f"Content-Encoding {enc!r} is not accepted; send gzip or none")
    inflate = zlib.decompressobj(wbits=31) if enc != "identity" else None
    too_big = HTTPException(413, f"a package is at most {limit // (1024 * 1024)} MB")
    body = bytearray()
    deadline = time.monotonic() + total
    parts = stream.__aiter__()
    while True:
        wait = min(idle, deadline - time.monotonic())
        if wait <= 0:
            raise HTTPException(408, f"the body did not arrive within {total:g} s")
        try:
            part = await asyncio.wait_for(parts.__anext__(), timeout=wait)
        except StopAsyncIteration:
            break
        except TimeoutError:
            raise HTTPException(408, f"the body stopped arriving for {idle:g} s") from None
        if inflate is None:
            body += part
        else:
            try:
                body += inflate.decompress(part, limit + 1 - len(body))
            except zlib.error as exc:
                raise HTTPException(400, f"the gzip body cannot be decoded: {exc}") from exc
            if inflate.unconsumed_tail:
                raise too_big
        if len(body) > limit:
            raise too_big
    if inflate is not None and not inflate.eof:
        raise HTTPException(400, "the gzip body ends before its end")
    return bytes(body)
