"""SentencePiece's precompiled normaliser map (a darts-clone double array) built from a code-point table."""
from __future__ import annotations

import struct
from typing import Mapping, Sequence

# darts-clone unit layout: bits 0-7 label, bit 8 "has a leaf", bit 9 "offset is shifted", bits 10-31 offset;
# a leaf unit holds its value in bits 0-30 with bit 31 set, so no byte label ever matches it.
_HAS_LEAF = 1 << 8
_IS_LEAF = 1 << 31
_MAX_OFFSET = 1 << 21


def precompiled_charsmap(table: Mapping[int, Sequence[int]]) -> bytes:
    """The bytes of a SentencePiece precompiled charsmap that maps each code point of `table` to its code points.

    An empty replacement deletes the character. The layout is what SentencePiece and the `tokenizers`
    Precompiled normaliser read: u32 size of the trie in bytes, the trie's u32 units, then the
    NUL-terminated replacement strings that leaf values point into.
    """
    blob = bytearray()
    keys: list[tuple[bytes, int]] = []
    for cp in sorted(table):
        keys.append((chr(cp).encode("utf-8"), len(blob)))
        blob += "".join(map(chr, table[cp])).encode("utf-8") + b"\0"
    units = _double_array(keys)
    return struct.pack("<I", 4 * len(units)) + struct.pack(f"<{len(units)}I", *units) + bytes(blob)


def _double_array(keys: list[tuple[bytes, int]]) -> list[int]:
    """A darts-clone double array over byte-string keys with integer values (common-prefix searchable)."""
    # a plain trie first: node -> {label: child}, node -> value
    children: list[dict[int, int]] = [{}]
    values: dict[int, int] = {}
    for key, value in keys:
        node = 0
        for byte in key:
            nxt = children[node].get(byte)
            if nxt is None:
                nxt = len(children)
                children.append({})
                children[node][byte] = nxt
            node = nxt
        values[node] = value

    units = [0] * 256
    used = bytearray(256)
    used_bases: set[int] = set()
    position = {0: 0}
    used[0] = 1
    queue = [0]
    search_from = 256
    for node in queue:  # breadth first; the queue grows as children are placed
        labels = sorted(children[node])
        if node in values:
            labels = [0, *labels]
        if not labels:
            continue
        base = _free_base(labels, used, used_bases, search_from, position[node])
        need = (base | 0xFF) + 1
        if need > len(units):
            units.extend([0] * (need - len(units)))
            used.extend(bytearray(need - len(used)))
        used_bases.add(base)
        pos = position[node]
        offset = pos ^ base
        units[pos] = (units[pos] & (0xFF | _HAS_LEAF)) | _encode_offset(offset) | (_HAS_LEAF if node in values else 0)
        for label in labels:
            used[base ^ label] = 1
        if node in values:
            units[base] = values[node] | _IS_LEAF
        for label in sorted(children[node]):
            child = children[node][label]
            position[child] = base ^ label
            units[base ^ label] = label
            queue.append(child)
        while search_from < len(used) and used[search_from]:
            search_from += 1
    return units


def _free_base(labels, used, used_bases, start: int, pos: int) -> int:
    """The first base whose slots (base ^ label) are all free, whose offset fits, found by trying each free slot
    from `start` as the place of the first label (as darts-clone does)."""
    first = labels[0]
    slot = start
    while True:
        if slot >= len(used) or not used[slot]:
            base = slot ^ first
            if (base not in used_bases and base >= 256
                    and all(base ^ lab >= len(used) or not used[base ^ lab] for lab in labels)):
                offset = pos ^ base
                if offset < _MAX_OFFSET or offset % 256 == 0:
                    return base
        slot += 1


def _encode_offset(offset: int) -> int:
    if offset < _MAX_OFFSET:
        return offset << 10
    if offset % 256 or offset >= 1 << 29:
        raise ValueError(f"offset {offset} cannot be encoded")
    return (offset << 2) | (1 << 9)


def _offset(unit: int) -> int:
    return (unit >> 10) << ((unit & (1 << 9)) >> 6)


def lookup(charsmap: bytes, text: str) -> str | None:
    """The replacement of the shortest key that prefixes `text` (None if none does), read as SentencePiece does."""
    size = struct.unpack_from("<I", charsmap, 0)[0]
    units = struct.unpack_from(f"<{size // 4}I", charsmap, 4)
    blob = charsmap[4 + size :]
    node_pos = _offset(units[0])
    for byte in text.encode("utf-8"):
        node_pos ^= byte
        if node_pos >= len(units):
            return None
        unit = units[node_pos]
        if unit & (_IS_LEAF | 0xFF) != byte:
            return None
        node_pos ^= _offset(unit)
        if unit & _HAS_LEAF:
            value = units[node_pos] & (_IS_LEAF - 1)
            return blob[value : blob.index(b"\0", value)].decode("utf-8")
    return None
