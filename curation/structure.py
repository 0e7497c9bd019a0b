"""What a file's own structure says about it, read without decoding: whether it was cut short, and a TIFF's tags."""

from __future__ import annotations


def cut_short(data: bytes) -> str | None:
    """How a file's own structure shows that it was cut short, or None: a RIFF (WebP), BMP or ICO header or ISO
    boxes (AVIF, HEIF, JPEG 2000) that declare more bytes than there are, PNG chunks that run out before IEND, a JPEG
    header that runs out before the image data, TIFF directories or strips past the end, a GIF or JPEG 2000
    codestream without its end marker."""
    n = len(data)
    if data.startswith(b"RIFF") and n >= 8:
        want = 8 + int.from_bytes(data[4:8], "little")
        return f"its RIFF header declares {want:,} bytes but it has {n:,}" if want > n else None
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        pos = 8
        while pos + 8 <= n:
            length, kind = int.from_bytes(data[pos : pos + 4], "big"), data[pos + 4 : pos + 8]
            pos += 12 + length
            if kind == b"IEND":
                return None
        return f"its chunks run out at {n:,} bytes, before IEND"
    if data[4:8] in _REQUIRED_BOXES:  # an ISO box file: HEIF / AVIF, JPEG 2000
        return _boxes_cut(data)
    if data.startswith(b"\xff\xd8"):
        return _jpeg_cut(data)
    if data[:4] in (b"II*\x00", b"MM\x00*") and n >= 8:
        return _tiff_cut(data)
    if data[:4] in (b"\x00\x00\x01\x00", b"\x00\x00\x02\x00") and n >= 6:
        return _ico_cut(data)
    if data.startswith(b"BM") and n >= 6 and (want := int.from_bytes(data[2:6], "little")) > n:
        return f"its BMP header declares {want:,} bytes but it has {n:,}"
    if data.startswith(b"GIF8") and not data.endswith(b";"):
        return "it does not end with the GIF trailer"
    if data.startswith(b"\xffO\xffQ") and not data.endswith(b"\xff\xd9"):
        return "it does not end with the JPEG 2000 end-of-codestream marker"
    return None


def _jpeg_cut(data: bytes) -> str | None:
    """Whether a JPEG's header segments run out before the image data starts (cut inside the data, the decoder
    itself says 'truncated')."""
    n, pos = len(data), 2
    while pos + 4 <= n:
        if data[pos] != 0xFF:
            return None  # not a marker: malformed rather than cut
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
        elif marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:  # markers without a length
            pos += 2
        elif marker == 0xDA:  # start of scan: the header is whole
            return None
        else:
            pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
    return f"its header runs out at {n:,} bytes, before the image data"


def _ico_cut(data: bytes) -> str | None:
    """An ICO or CUR directory, or an image it lists, that lies past the end."""
    n, count = len(data), int.from_bytes(data[4:6], "little")
    if 6 + 16 * count > n:
        return f"its directory of {count} images runs past its end ({n:,} bytes)"
    for k in range(count):
        e = data[6 + 16 * k : 22 + 16 * k]
        end = int.from_bytes(e[12:16], "little") + int.from_bytes(e[8:12], "little")
        if end > n:
            return f"an image it lists runs to byte {end:,}, past its end ({n:,} bytes)"
    return None


# The top-level boxes a whole file has, by its first box: a HEIF / AVIF (ftyp) its metadata and media data, a JPEG 2000
# (its signature box) the codestream. A file cut exactly between two boxes has all its boxes whole but not these.
_REQUIRED_BOXES = {b"ftyp": (b"meta", b"mdat"), b"jP  ": (b"jp2c",)}


def _boxes_cut(data: bytes) -> str | None:
    n, pos, seen = len(data), 0, set()
    while pos + 8 <= n:
        size = int.from_bytes(data[pos : pos + 4], "big")
        seen.add(data[pos + 4 : pos + 8])
        if size == 1 and pos + 16 <= n:
            size = int.from_bytes(data[pos + 8 : pos + 16], "big")
        if size == 0:  # the last box, to the end of the file
            if data[pos + 4 : pos + 8] == b"jp2c" and not data.endswith(b"\xff\xd9"):
                return "its JPEG 2000 codestream does not end with its end marker"
            return None
        if size < 8:  # malformed rather than cut
            return None
        pos += size
    if pos > n:
        return f"its boxes declare {pos:,} bytes but it has {n:,}"
    if pos < n:
        return f"it ends inside a box header (at {n:,} bytes)"
    missing = [k.decode("latin-1") for k in _REQUIRED_BOXES[data[4:8]] if k not in seen]
    return f"its boxes end at {n:,} bytes without {' and '.join(missing)}" if missing else None


def tiff_compression(data: bytes) -> int | None:
    """The compression code in a classic TIFF's first directory, or None where it cannot be read."""
    found = _tiff_tags(data, (259,))
    return found[259][0] if found and found.get(259) else None


def _tiff_tags(data: bytes, wanted: tuple[int, ...]) -> dict[int, list[int]] | None:
    """Integer values of some tags of a classic TIFF's first directory (None if it has no readable directory; a tag
    whose values lie past the end of the file maps to [])."""
    if len(data) < 8 or data[:4] not in (b"II*\x00", b"MM\x00*"):
        return None
    order = "little" if data[:2] == b"II" else "big"
    ifd = int.from_bytes(data[4:8], order)
    if ifd + 2 > len(data):
        return None
    found: dict[int, list[int]] = {}
    for k in range(min(int.from_bytes(data[ifd : ifd + 2], order), 4096)):
        entry = data[ifd + 2 + 12 * k : ifd + 14 + 12 * k]
        if len(entry) < 12:
            break
        tag, kind, count = int.from_bytes(entry[:2], order), int.from_bytes(entry[2:4], order), entry[4:8]
        width = {3: 2, 4: 4}.get(kind)  # SHORT, LONG
        if tag not in wanted or width is None:
            continue
        count = min(int.from_bytes(count, order), 1 << 16)
        at = ifd + 10 + 12 * k if count * width <= 4 else int.from_bytes(entry[8:12], order)
        raw = data[at : at + count * width]
        found[tag] = [int.from_bytes(raw[i : i + width], order) for i in range(0, len(raw) - width + 1, width)]
        if len(raw) < count * width:
            found[tag] = []
    return found


_TIFF_TYPE_BYTES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8}


def _tiff_cut(data: bytes) -> str | None:
    n = len(data)
    order = "little" if data[:2] == b"II" else "big"
    ifd = int.from_bytes(data[4:8], order)
    if ifd + 2 > n:
        return f"its first directory is at byte {ifd:,}, past its end ({n:,} bytes)"
    count = int.from_bytes(data[ifd : ifd + 2], order)
    if ifd + 2 + 12 * count > n:
        return f"its first directory runs past its end ({n:,} bytes)"
    for k in range(count):
        e = data[ifd + 2 + 12 * k : ifd + 14 + 12 * k]
        size = _TIFF_TYPE_BYTES.get(int.from_bytes(e[2:4], order), 1) * int.from_bytes(e[4:8], order)
        if size > 4 and int.from_bytes(e[8:12], order) + size > n:
            return f"a value of its directory lies past its end ({n:,} bytes)"
    tags = _tiff_tags(data, (273, 279, 324, 325)) or {}
    for offsets, counts in ((273, 279), (324, 325)):
        if tags.get(offsets) and tags.get(counts):
            end = max(o + c for o, c in zip(tags[offsets], tags[counts], strict=False))
            if end > n:
                return f"its image data runs to byte {end:,}, past its end ({n:,} bytes)"
    return None
