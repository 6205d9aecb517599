"""Validating one large JSONL file on several cores (``hub validate --workers``).

The lines are cut into as many contiguous parts as there are workers.  The parent counts the
records before each part (so every issue carries the record number and line it would have
in a single pass), forks one child per part but the first, and validates the first part
itself.  A child sends its progress every ``PROGRESS_EVERY`` records and, at the end, its
record counts and issues; the parent reports them in file order.  The result is the same
FileReport a single pass gives (a test compares them field by field).

Only whole-file validation uses this: ingest already overlaps validation with the store in
its own child (hub/ingest/parallel.py), and forks do not nest.
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing as mp
import os
import pickle
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from hub.errors import FatalError
from hub.validation.issues import Issue
from hub.validation.tally import FileReport, tally_lines
from hub.validation.validator import Validator

MIN_BYTES = 4 * 1024 * 1024  # below this a fork costs more than it saves
PROGRESS_EVERY = 2000


def available() -> bool:
    return "fork" in mp.get_all_start_methods()


def worth_it(size: int, workers: int) -> bool:
    return workers > 1 and size >= MIN_BYTES and available()


def _records_in(lines: list[bytes]) -> int:
    """Records among ``lines``: those neither empty nor all whitespace (C loops only)."""
    return len(lines) - lines.count(b"") - sum(map(bytes.isspace, lines))


def _validate_part(
    validator: Validator,
    lines: list[bytes],
    first_line: int,
    index: int,
    source: str,
    progress: Callable[[int], None] | None,
) -> tuple[int, int, list[Issue]]:
    if progress is None:
        return tally_lines(validator, lines, first_line, index, source)
    pending = 0

    def every(n: int) -> None:  # a child tells its parent every PROGRESS_EVERY records
        nonlocal pending
        pending += n
        if pending >= PROGRESS_EVERY:
            progress(pending)
            pending = 0

    result = tally_lines(validator, lines, first_line, index, source, every)
    if pending:
        progress(pending)
    return result


def _child(
    out: Connection, validator: Validator, lines: list[bytes], first: int, index: int, source: str
) -> None:
    try:
        result = _validate_part(
            validator, lines, first, index, source, lambda n: out.send_bytes(b"P%d" % n)
        )
        out.send_bytes(b"R" + pickle.dumps(result, pickle.HIGHEST_PROTOCOL))
    except (BrokenPipeError, ConnectionResetError):
        pass  # the parent is gone
    except BaseException as exc:
        with contextlib.suppress(OSError):
            out.send_bytes(b"E" + f"{type(exc).__name__}: {exc}".encode())
    finally:
        os._exit(0)  # no atexit, no finalizers of the parent's inherited objects


def validate_jsonl(
    validator: Validator,
    data: bytes,
    source: str,
    workers: int,
    on_record: Callable[[int], None] | None = None,
) -> FileReport:
    lines = data.split(b"\n")
    cuts = [len(lines) * k // workers for k in range(workers + 1)]
    parts = [lines[a:b] for a, b in itertools.pairwise(cuts)]
    offsets = [0]
    for part in parts[:-1]:
        offsets.append(offsets[-1] + _records_in(part))
    ctx = mp.get_context("fork")
    children: list[tuple[Connection, BaseProcess]] = []
    try:
        for k in range(1, workers):
            recv, send = ctx.Pipe(duplex=False)
            proc = ctx.Process(
                target=_child,
                args=(send, validator, parts[k], cuts[k] + 1, offsets[k], source),
                daemon=True,
            )
            proc.start()
            send.close()
            children.append((recv, proc))

        early: dict[int, bytes] = {}  # a child's final answer read while polling progress

        def mine(n: int) -> None:  # the parent's own progress, and its children's meanwhile
            if on_record is None:
                return
            on_record(n)
            for recv, _ in children:
                while id(recv) not in early and recv.poll():
                    msg = recv.recv_bytes()
                    if msg[:1] == b"P":
                        on_record(int(msg[1:]))
                    else:
                        early[id(recv)] = msg

        results = [_validate_part(validator, parts[0], 1, 0, source, mine)]
        for recv, child in children:
            results.append(_collect(recv, child, early.pop(id(recv), None), on_record, source))
    finally:
        for recv, child in children:
            recv.close()
            if child.is_alive():
                child.terminate()
            child.join(10)
    report = FileReport(source, "jsonl")
    for records, valid, issues in results:
        report.records += records
        report.valid += valid
        report.issues.extend(issues)
    return report


def _collect(
    recv: Connection,
    proc: BaseProcess,
    early: bytes | None,
    on_record: Callable[[int], None] | None,
    source: str,
) -> tuple[int, int, list[Issue]]:
    while True:
        if early is not None:
            msg, early = early, None
        else:
            try:
                msg = recv.recv_bytes()
            except EOFError:
                raise FatalError(
                    f"{source}: a validation process ended without an answer "
                    f"(exit code {proc.exitcode})"
                ) from None
        kind = msg[:1]
        if kind == b"P":
            if on_record is not None:
                on_record(int(msg[1:]))
        elif kind == b"R":
            result: tuple[int, int, list[Issue]] = pickle.loads(msg[1:])  # from our own child
            return result
        else:
            raise FatalError(f"{source}: validation failed in a worker: {msg[1:].decode()}")
