"""A Merkle tree over the records of a package, as in RFC 6962 §2.1 (Certificate Transparency).

Leaves are the per-record content hashes in manifest order.  ``leaf = H(0x00 || hash)``,
``node = H(0x01 || left || right)``; a tree of n leaves splits at the largest power of two
below n, so no leaf is duplicated and a proof has at most ⌈log2 n⌉ steps.  ``H`` is the
package's digest algorithm (SHA-256 or SM3).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

Hash = Callable[[bytes], bytes]


def _split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def root(leaves: Sequence[bytes], h: Hash) -> bytes:
    """The tree head over the leaf values (each already a record hash)."""
    if not leaves:
        return h(b"")
    level = [h(b"\x00" + x) for x in leaves]
    return _root(level, h)


def _root(nodes: Sequence[bytes], h: Hash) -> bytes:
    if len(nodes) == 1:
        return nodes[0]
    k = _split(len(nodes))
    return h(b"\x01" + _root(nodes[:k], h) + _root(nodes[k:], h))


def proof(leaves: Sequence[bytes], index: int, h: Hash) -> list[bytes]:
    """The audit path of leaf ``index``: sibling subtree hashes, from the leaf upwards."""
    if not 0 <= index < len(leaves):
        raise IndexError(f"leaf {index} is not in a tree of {len(leaves)}")
    nodes = [h(b"\x00" + x) for x in leaves]
    path: list[bytes] = []
    _path(nodes, index, h, path)
    return path


def _path(nodes: Sequence[bytes], index: int, h: Hash, out: list[bytes]) -> None:
    if len(nodes) == 1:
        return
    k = _split(len(nodes))
    if index < k:
        _path(nodes[:k], index, h, out)
        out.append(_root(nodes[k:], h))
    else:
        _path(nodes[k:], index - k, h, out)
        out.append(_root(nodes[:k], h))


def verify(leaf: bytes, index: int, size: int, path: Sequence[bytes], head: bytes, h: Hash) -> bool:
    """Does ``leaf`` sit at ``index`` of a tree of ``size`` leaves whose root is ``head``?
    (RFC 9162 §2.1.3.2, the iterative form.)"""
    if not 0 <= index < size:
        return False
    fn, sn = index, size - 1
    r = h(b"\x00" + leaf)
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = h(b"\x01" + p + r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = h(b"\x01" + r + p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == head
