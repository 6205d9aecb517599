"""Decoding and validation in a second process, one chunk ahead of reconcile.

Ingest is two stages that do not share state: decode + validate + prepare (pure: bytes in;
records, issues and each valid record's key, canonical content, hash, links and claims out)
and place + write (the store).  On a large input the first runs in a forked child that reads
the raw object itself and sends each chunk through a pipe; the parent reconciles chunk n while
the child works on chunk n + 1.  A prepared record crosses without its fields (its canonical
content carries them), which is what makes the parent's share small.  The pipe is the only
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
from collections.abc import Callable, Iterator
from dataclasses import astuple
from multiprocessing.connection import Connection
from typing import BinaryIO, cast

import orjson

from hub.errors import FatalError, InputError
from hub.reconcile.prepare import Prepared
from hub.validation.decode import RawRecord
from hub.validation.issues import Issue
from hub.validation.result import RecordResult
from hub.validation.validator import Validator

Prep = Callable[[RawRecord, list[Issue]], Prepared | None]
Pair = tuple[RecordResult, Prepared | None]


def available() -> bool:
    return "fork" in mp.get_all_start_methods()


def _encode(chunk: list[Pair]) -> bytes:
    """A chunk as one JSON document of flat rows: orjson writes and reads it several times
    faster than pickle handles the objects.  A value JSON cannot carry falls back to pickle."""
    rows = [
        (
            r.raw.index,
            r.raw.dataset,
            None if p is not None else r.raw.fields,
            r.raw.op,
            r.raw.key,
            r.raw.line,
            r.raw.problem,
            r.raw.extra or None,
            # the raw text only where it may be needed: a record with issues can be quarantined
            r.raw.text.decode("utf-8", "surrogateescape") if r.issues and r.raw.text else None,
            [astuple(i) for i in r.issues],
            None if p is None else tuple(p),  # orjson writes plain tuples only
        )
        for r, p in chunk
    ]
    try:
        return b"J" + orjson.dumps(rows)
    except TypeError:
        for r, _ in chunk:
            r.raw.element = None  # lxml elements do not cross processes; raw.text does
        return b"P" + pickle.dumps(chunk, pickle.HIGHEST_PROTOCOL)


def _decode(data: bytes) -> list[Pair]:
    if data[:1] == b"P":
        return cast(list[Pair], pickle.loads(data[1:]))  # from our own child
    return [
        (
            RecordResult(
                RawRecord(
                    index,
                    dataset,
                    fields if fields is not None else {},
                    op,
                    key,
                    line,
                    None,
                    problem,
                    extra or {},
                    text.encode("utf-8", "surrogateescape") if text is not None else None,
                ),
                [Issue(*i) for i in issues],
            ),
            Prepared(*p) if p is not None else None,
        )
        for index, dataset, fields, op, key, line, problem, extra, text, issues, p in orjson.loads(
            memoryview(data)[1:]
        )
    ]


def _child(
    out: Connection,
    theirs: Connection,
    validator: Validator,
    opener: Callable[[], BinaryIO],
    origin: str,
    fmt: str,
    n: int,
    prep: Prep,
) -> None:
    # the fork copied the parent's reading end too: close it, or the pipe never breaks
    # when the parent dies and this process would wait on a full pipe for ever
    theirs.close()
    try:
        buf: list[Pair] = []
        with opener() as fh:
            for r in validator.iter_stream(fh, origin, fmt):
                buf.append((r, prep(r.raw, r.issues)))
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


_warmed: set[int] = set()


def _warm(validator: Validator) -> None:
    """Compile every data set's rules and JSON Schema (and the XSD) here, once per process,
    before the first fork: a child compiles what it uses on first use and dies with it, so a
    long-running `hub serve` would pay that (0.25 s measured) again for every package."""
    if id(validator) in _warmed:
        return
    for name in validator.dictionary.datasets:
        validator.rules(name)
        validator.json_validator(name)
    validator.xml_schema  # noqa: B018 - compiled now, inherited by every child
    _warmed.add(id(validator))


def validated_chunks(
    validator: Validator, opener: Callable[[], BinaryIO], origin: str, fmt: str, n: int, prep: Prep
) -> Iterator[list[Pair]]:
    """Chunks of at most ``n`` validated records of the input ``opener`` opens (in the child:
    the fork inherits it), each with what ``prep`` derives from it, from a child."""
    _warm(validator)
    ctx = mp.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(
        target=_child, args=(send, recv, validator, opener, origin, fmt, n, prep), daemon=True
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
