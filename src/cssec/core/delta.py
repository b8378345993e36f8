"""Binary deltas between two versions of a component file (ActiveUpdate's delta updates).

A delta turns `source` (the version a server holds) into `target` (the next one) with two
operations: copy a range of `source`, or insert new bytes. The encoder indexes `source` at
every `BLOCK`-byte boundary and scans `target` at every offset for a block it knows, then
grows each match both ways; what matches nothing is inserted. For a pattern file that grew
or changed a little, nearly everything is a few copies and the delta is about the size of
the new bytes, compressed.

Format, version 1 (all integers unsigned LEB128 varints):

    b"CSD" 0x01                      magic and format version
    source length, target length
    sha256(source), sha256(target)   32 bytes each
    zlib( op* )                      the operations, compressed (level 9)
        0x01 offset length           copy source[offset : offset + length]
        0x02 length bytes            insert `length` bytes

`apply_delta` checks everything before it trusts it (the delta is untrusted input even when
TUF vouched for it): the source's length and hash, each operation's bounds, the target's
length never exceeded (nor `max_target`), no trailing bytes, and the result's length and
hash. Any failure raises DeltaError; it never returns a wrong file.
"""

from __future__ import annotations

import hashlib
import zlib

MAGIC = b"CSD\x01"
BLOCK = 32
COPY = 0x01
INSERT = 0x02
MAX_TARGET = 256 * 1024 * 1024
_MIN_COPY = BLOCK  # a shorter copy costs more than inserting the bytes


class DeltaError(ValueError):
    """The delta is damaged, is for another source, or does not produce its target."""


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _read_varint(data: bytes | memoryview, pos: int) -> tuple[int, int]:
    value = 0
    for shift in range(0, 64, 7):
        if pos >= len(data):
            raise DeltaError("truncated number")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
    raise DeltaError("number too long")


def _ops(source: bytes, target: bytes) -> list[tuple[int, int, int]]:
    """(kind, a, b): (COPY, offset, length) or (INSERT, start in target, end in target)."""
    index: dict[bytes, int] = {}
    for offset in range(0, len(source) - BLOCK + 1, BLOCK):
        index.setdefault(source[offset : offset + BLOCK], offset)
    ops: list[tuple[int, int, int]] = []
    literal = 0  # start of the bytes not yet covered
    pos = 0
    end = len(target)
    while pos + BLOCK <= end:
        found = index.get(target[pos : pos + BLOCK])
        if found is None:
            pos += 1
            continue
        # Grow backwards into the pending literal, then forwards.
        back = 0
        while (
            back < pos - literal
            and back < found
            and source[found - back - 1] == target[pos - back - 1]
        ):
            back += 1
        start_t, start_s = pos - back, found - back
        length = BLOCK + back
        length += _common_prefix(source, start_s + length, target, start_t + length)
        if start_t > literal:
            ops.append((INSERT, literal, start_t))
        ops.append((COPY, start_s, length))
        pos = literal = start_t + length
    if literal < end:
        ops.append((INSERT, literal, end))
    return ops


def _common_prefix(a: bytes, i: int, b: bytes, j: int) -> int:
    """How many bytes a[i:] and b[j:] share at their start (compared in chunks, in C)."""
    n = 0
    step = 4096
    limit = min(len(a) - i, len(b) - j)
    while n < limit:
        size = min(step, limit - n)
        if a[i + n : i + n + size] == b[j + n : j + n + size]:
            n += size
            continue
        if size <= 16:
            while n < limit and a[i + n] == b[j + n]:
                n += 1
            return n
        step = max(16, size // 8)
    return n


def make_delta(source: bytes, target: bytes) -> bytes:
    """The delta that turns `source` into `target` (deterministic)."""
    body = bytearray()
    for kind, a, b in _ops(source, target):
        if kind == COPY:
            body += bytes([COPY]) + _varint(a) + _varint(b)
        else:
            body += bytes([INSERT]) + _varint(b - a) + target[a:b]
    header = (
        MAGIC
        + _varint(len(source))
        + _varint(len(target))
        + hashlib.sha256(source).digest()
        + hashlib.sha256(target).digest()
    )
    return header + zlib.compress(bytes(body), 9)


def delta_target_length(delta: bytes) -> int:
    """The length of the file the delta produces, read from its header (not verified)."""
    if not delta.startswith(MAGIC):
        raise DeltaError("not a cssec delta")
    _source_len, pos = _read_varint(delta, len(MAGIC))
    target_len, _pos = _read_varint(delta, pos)
    return target_len


def delta_hashes(delta: bytes) -> tuple[str, str]:
    """The SHA-256 (hex) of the source and of the target the delta names, read from its
    header (not verified: `apply_delta` verifies both)."""
    if not delta.startswith(MAGIC):
        raise DeltaError("not a cssec delta")
    _source_len, pos = _read_varint(delta, len(MAGIC))
    _target_len, pos = _read_varint(delta, pos)
    if len(delta) < pos + 64:
        raise DeltaError("truncated header")
    return delta[pos : pos + 32].hex(), delta[pos + 32 : pos + 64].hex()


def apply_delta(delta: bytes, source: bytes, *, max_target: int = MAX_TARGET) -> bytes:
    """`target` from `source` and `make_delta(source, target)`; DeltaError for anything
    else (see the module docstring)."""
    if not delta.startswith(MAGIC):
        raise DeltaError("not a cssec delta (or another format version)")
    source_len, pos = _read_varint(delta, len(MAGIC))
    target_len, pos = _read_varint(delta, pos)
    if target_len > max_target:
        raise DeltaError(f"target of {target_len} bytes exceeds {max_target}")
    if len(delta) < pos + 64:
        raise DeltaError("truncated header")
    source_sha, target_sha = delta[pos : pos + 32], delta[pos + 32 : pos + 64]
    if len(source) != source_len or hashlib.sha256(source).digest() != source_sha:
        raise DeltaError("made for another source file")
    decompressor = zlib.decompressobj()
    try:
        # An insert holds at most target_len bytes; a copy op is at most 21 bytes, and each
        # one produces at least one byte, so the ops cannot honestly exceed this.
        body = decompressor.decompress(delta[pos + 64 :], 22 * target_len + 64)
    except zlib.error as exc:
        raise DeltaError(f"damaged: {exc}") from None
    if decompressor.unconsumed_tail or not decompressor.eof or decompressor.unused_data:
        raise DeltaError("damaged or oversized operations")
    out = _run(body, source, target_len)
    if len(out) != target_len or hashlib.sha256(out).digest() != target_sha:
        raise DeltaError("does not produce its target")
    return bytes(out)


def _run(body: bytes, source: bytes, target_len: int) -> bytearray:
    """The operations of `body` applied to `source`, bounds checked one by one."""
    source_len = len(source)
    out = bytearray()
    view = memoryview(body)
    i = 0
    while i < len(body):
        kind = body[i]
        i += 1
        if kind == COPY:
            offset, i = _read_varint(view, i)
            length, i = _read_varint(view, i)
            if length == 0 or offset + length > source_len:
                raise DeltaError("copy out of the source's bounds")
            chunk: bytes | memoryview = source[offset : offset + length]
        elif kind == INSERT:
            length, i = _read_varint(view, i)
            if length == 0 or i + length > len(body):
                raise DeltaError("insert past the end")
            chunk = view[i : i + length]
            i += length
        else:
            raise DeltaError(f"unknown operation {kind}")
        if len(out) + length > target_len:
            raise DeltaError("longer than its target")
        out += chunk
    return out


__all__ = ["DeltaError", "apply_delta", "delta_hashes", "delta_target_length", "make_delta"]
