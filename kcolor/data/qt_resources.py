"""Read the files inside a compiled Qt resource file (`.rcc`), for the photos packed in one.

Some Debian packages ship their images inside `.rcc` files, not as plain files: GCompris
(`gcompris-qt-data`) packs each activity's photos into `rcc/ACTIVITY.rcc`. The photo corpus
names such a file `PATH.rcc:/RESOURCE` (Qt's own `:/` prefix for a resource path), and
`kcolor.data.photo_fetch` reads it with `read_resources`.

The format (written by Qt's `rcc` tool, versions 1 to 3): the magic `qres`; four big-endian
32-bit words (format version, then the offsets of the tree, the data and the names); a tree
of fixed-size entries (14 bytes, 22 from version 2 on, which adds a modification time),
each a name offset and flags, then either a directory's child count and first child or a
file's locale and data offset. A file's data is a 32-bit length and the bytes; flag 1 marks
zlib compression (a 32-bit uncompressed length, then the zlib stream), flag 4 zstd. A name
is a 16-bit length, a 32-bit hash and UTF-16BE characters.

Example:
    files = read_resources(open("erase.rcc", "rb").read())
    files["/gcompris/src/activities/erase/resource/alpaca.webp"]
"""

import struct
import zlib

RESOURCE_SEPARATOR = ":/"
_COMPRESSED, _DIRECTORY, _ZSTD = 1, 2, 4


class ResourceError(ValueError):
    """A file that is not a readable Qt resource file."""


def split_resource_path(path):
    """`(container, resource)` of `PATH.rcc:/RESOURCE`, or `(path, None)` for a plain path."""
    container, sep, rest = path.partition(RESOURCE_SEPARATOR)
    return (container, "/" + rest) if sep else (path, None)


def read_resources(blob: bytes) -> dict:
    """{resource path ("/dir/file"): bytes} of every file in the Qt resource file `blob`.

    Raises:
        ResourceError: `blob` has no `qres` magic, an unknown format version, an entry
            outside the file, or a file compressed with zstd (which needs a library kcolor
            does not depend on).
    """
    if blob[:4] != b"qres" or len(blob) < 20:
        raise ResourceError(f"not a Qt resource file (starts with {blob[:4]!r}, not b'qres')")
    version, tree, data, names = struct.unpack(">IIII", blob[4:20])
    if version not in (1, 2, 3):
        raise ResourceError(f"Qt resource format version {version}; valid: 1, 2, 3")
    entry_size = 14 if version == 1 else 22

    def unpack(fmt, offset):
        end = offset + struct.calcsize(fmt)
        if end > len(blob):
            raise ResourceError(f"entry at byte {offset} runs past the end of the file ({len(blob)} bytes)")
        return struct.unpack(fmt, blob[offset:end])

    def name(offset):
        (length,) = unpack(">H", names + offset)
        start = names + offset + 6
        return blob[start : start + 2 * length].decode("utf-16-be")

    def content(path, flags, offset):
        (size,) = unpack(">I", data + offset)
        raw = blob[data + offset + 4 : data + offset + 4 + size]
        if flags & _ZSTD:
            raise ResourceError(f"{path} is zstd-compressed; only uncompressed and zlib files can be read")
        return zlib.decompress(raw[4:]) if flags & _COMPRESSED else raw

    files, stack, seen = {}, [(0, "")], set()
    while stack:
        index, parent = stack.pop()
        if index in seen:
            raise ResourceError(f"tree entry {index} is listed twice (a loop in the directory tree)")
        seen.add(index)
        entry = tree + index * entry_size
        name_offset, flags = unpack(">IH", entry)
        path = f"{parent}/{name(name_offset)}" if index else ""
        if flags & _DIRECTORY:
            count, first = unpack(">II", entry + 6)
            stack.extend((child, path) for child in range(first, first + count))
        else:
            (offset,) = unpack(">I", entry + 10)
            files[path] = content(path, flags, offset)
    return files
