"""Decoding and validation in a second process, one chunk ahead of reconcile.

Ingest is two stages that do not share state: decode + validate (pure: bytes in, records and
issues out) and reconcile + write (the store).  On a large input the first runs in a forked
child that reads the raw object itself and sends each validated chunk through a pipe; the
parent reconciles chunk n while the child validates chunk n + 1.  The pipe is the only
buffer, so the child is never more than a chunk ahead and memory stays flat.

If the parent dies (even by SIGKILL) the child's next send fails with a broken pipe and it
exits; if the child dies, the parent sees end-of-file and the run fails like any crash (what
was committed stays, a re-run turns it into DUPLICATEs).  Errors cross the pipe as data:
an unreadable input is re-raised in the parent as the same InputError.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import pickle
from collections.abc import Iterator
from dataclasses import astuple
from multiprocessing.connection import Connection
from pathlib import Path
from typing import cast

import orjson

from hub.errors import FatalError, InputError
from hub.validation.decode import RawRecord
from hub.validation.issues import Issue
from hub.validation.validator import RecordResult, Validator


def available() -> bool:
    return "fork" in mp.get_all_start_methods()


def _encode(chunk: list[RecordResult]) -> bytes:
    """A chunk as one JSON document of flat rows: orjson writes and reads it several times
    faster than pickle handles the objects.  A value JSON cannot carry falls back to pickle."""
    rows = [
        (
            r.raw.index,
            r.raw.dataset,
            r.raw.fields,
            r.raw.op,
            r.raw.key,
            r.raw.line,
            r.raw.problem,
            r.raw.extra or None,
            # the raw text only where it may be needed: a record with issues can be quarantined
            r.raw.text.decode("utf-8", "surrogateescape") if r.issues and r.raw.text else None,
            [astuple(i) for i in r.issues],
        )
        for r in chunk
    ]
    try:
        return b"J" + orjson.dumps(rows)
    except TypeError:
        for r in chunk:
            r.raw.element = None  # lxml elements do not cross processes; raw.text does
        return b"P" + pickle.dumps(chunk, pickle.HIGHEST_PROTOCOL)


def _decode(data: bytes) -> list[RecordResult]:
    if data[:1] == b"P":
        return cast(list[RecordResult], pickle.loads(data[1:]))  # from our own child
    return [
        RecordResult(
            RawRecord(
                index,
                dataset,
                fields,
                op,
                key,
                line,
                None,
                problem,
                extra or {},
                text.encode("utf-8", "surrogateescape") if text is not None else None,
            ),
            [Issue(*i) for i in issues],
        )
        for index, dataset, fields, op, key, line, problem, extra, text, issues in orjson.loads(
            memoryview(data)[1:]
        )
    ]


def _child(
    out: Connection,
    theirs: Connection,
    validator: Validator,
    path: Path,
    origin: str,
    fmt: str,
    n: int,
) -> None:
    # the fork copied the parent's reading end too: close it, or the pipe never breaks
    # when the parent dies and this process would wait on a full pipe for ever
    theirs.close()
    try:
        buf: list[RecordResult] = []
        with path.open("rb") as fh:
            for r in validator.iter_stream(fh, origin, fmt):
                buf.append(r)
                if len(buf) >= n:
                    out.send(("chunk", _encode(buf)))
                    buf = []
        if buf:
            out.send(("chunk", _encode(buf)))
        out.send(("end", None))
    except InputError as exc:
        out.send(("input", (exc.source, exc.reason, exc.code)))
    except (BrokenPipeError, ConnectionResetError):
        pass  # the parent is gone
    except BaseException as exc:
        with contextlib.suppress(OSError):
            out.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        os._exit(0)  # no atexit, no finalizers of the parent's inherited connections


def validated_chunks(
    validator: Validator, path: Path, origin: str, fmt: str, n: int
) -> Iterator[list[RecordResult]]:
    """Chunks of at most ``n`` validated records of the file at ``path``, from a child."""
    ctx = mp.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(
        target=_child, args=(send, recv, validator, path, origin, fmt, n), daemon=True
    )
    proc.start()
    send.close()
    try:
        while True:
            try:
                kind, body = recv.recv()
            except EOFError:
                raise FatalError(
                    f"{origin}: the validation process ended without an answer "
                    f"(exit code {proc.exitcode})"
                ) from None
            if kind == "chunk":
                yield _decode(body)
            elif kind == "end":
                return
            elif kind == "input":
                source, reason, code = body
                raise InputError(source, reason, code=code)
            else:
                raise FatalError(f"{origin}: validation failed: {body}")
    finally:
        recv.close()
        if proc.is_alive():
            proc.terminate()
        proc.join(10)
