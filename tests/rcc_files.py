"""Qt resource files (`.rcc`) built byte by byte, for the tests of `kcolor.data.qt_resources`."""

import struct
import zlib


def rcc_bytes(files, *, version=2, compressed=(), zstd=()):
    """A Qt resource file holding `files` ({"/dir/name": bytes}); the paths in `compressed` are
    stored zlib-compressed (flag 1), those in `zstd` flagged zstd (flag 4, bytes left as they are)."""
    root = {}
    for path, data in files.items():
        node = root
        *folders, leaf = path.strip("/").split("/")
        for folder in folders:
            node = node.setdefault(folder, {})
        node[leaf] = path
    names, name_at = b"", {}

    def name_offset(name):
        nonlocal names
        if name not in name_at:
            name_at[name] = len(names)
            names += struct.pack(">HI", len(name), 0) + name.encode("utf-16-be")
        return name_at[name]

    data_blob, entries, queue = b"", [None], [("", root, 0)]
    while queue:  # breadth first: a folder's children are consecutive entries, as Qt's rcc writes them
        name, node, index = queue.pop(0)
        if isinstance(node, dict):
            first = len(entries)
            children = sorted(node.items())
            entries.extend([None] * len(children))
            entries[index] = struct.pack(">IHII", name_offset(name), 2, len(children), first)
            queue.extend((child, sub, first + i) for i, (child, sub) in enumerate(children))
        else:
            payload, flags = files[node], 0
            if node in compressed:
                payload, flags = struct.pack(">I", len(payload)) + zlib.compress(payload), 1
            if node in zstd:
                flags = 4
            entries[index] = struct.pack(">IHHHI", name_offset(name), flags, 0, 0, len(data_blob))
            data_blob += struct.pack(">I", len(payload)) + payload
    if version >= 2:
        entries = [entry + struct.pack(">Q", 0) for entry in entries]
    tree = b"".join(entries)
    header_size = 20 + (4 if version >= 3 else 0)
    offsets = (header_size, header_size + len(tree), header_size + len(tree) + len(data_blob))
    header = b"qres" + struct.pack(">IIII", version, *offsets) + (b"\0\0\0\0" if version >= 3 else b"")
    return header + tree + data_blob + names
