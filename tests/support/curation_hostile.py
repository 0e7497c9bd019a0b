"""Hostile raw files for curation, made from a seed: valid images in odd modes and formats, mutations of them (cut,
bytes flipped, huge declared sizes, wrong extensions), crafted failures, and real image files found on this machine.

Used by the property tests (tests/test_curation_properties.py) and by benchmarks/hostile_corpus.py, which builds a
folder of 1,000+ such files and runs `sakura curate` on it.
"""

from __future__ import annotations

import hashlib
import io
import random
import struct
import sys
import sysconfig
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms, features

from tests.support.curation_images import png16_grey, png16_rgb, scene

Maker = Callable[[random.Random], tuple[bytes, str]]  # rng -> (file bytes, the extension it should have)
IMAGE_EXTENSIONS = (
    ".png", ".jpg", ".jpeg", ".gif", ".tif", ".tiff", ".bmp", ".webp", ".ico", ".eps", ".ppm", ".pgm", ".pbm", ".pnm",
    ".tga", ".psd", ".xpm", ".xbm", ".pcx", ".svg", ".icns", ".cur", ".jp2", ".avif", ".heic", ".pdf", ".dds", ".sgi",
    ".im", ".fits", ".mpo", ".apng", ".qoi", ".jxl", ".wmf", ".emf", ".dib",
)  # fmt: skip
WRONG_EXTENSIONS = ("jpg", "png", "gif", "webp", "tif", "txt", "bin", "", "JPG", "jpeg.exe")


_EPOCH = time.gmtime(946_684_800)  # 2000-01-01, a fixed date in a PDF: the same bytes every time


def _save(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def _size(rng: random.Random) -> tuple[int, int]:
    """Mostly ordinary sizes; sometimes a strip (1xN, Nx1), a single pixel or a tiny square."""
    kind = rng.random()
    if kind < 0.1:
        n = rng.randint(2, 1200)
        return (1, n) if rng.random() < 0.5 else (n, 1)
    if kind < 0.14:
        return (1, 1)
    if kind < 0.2:
        return rng.randint(2, 40), rng.randint(2, 40)
    return rng.randint(64, 420), rng.randint(64, 420)


def _picture(rng: random.Random) -> Image.Image:
    w, h = _size(rng)
    return scene(rng.randrange(1 << 30), (max(w, 48), max(h, 48))).resize((w, h))


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def _exif(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif.tobytes()


def _paletted(im: Image.Image, rng: random.Random) -> Image.Image:
    return im.quantize(colors=rng.choice([2, 16, 256]), method=Image.Quantize.FASTOCTREE)  # quicker than GIF's own


def _animated(rng: random.Random, fmt: str) -> bytes:
    frames = [_picture(random.Random(rng.random())) for _ in range(rng.randint(2, 4))]
    size = frames[0].size
    frames = [f.resize(size) for f in frames]
    if fmt == "GIF":
        frames = [_paletted(f, rng) for f in frames]
    return _save(frames[0], fmt, save_all=True, append_images=frames[1:], duration=80, loop=0)


def _tiff_pages(rng: random.Random) -> bytes:
    im = _picture(rng)
    return _save(im, "TIFF", save_all=True, append_images=[im.rotate(90)], compression="tiff_lzw")


def _profile(name: str) -> bytes:
    """An ICC profile made by LittleCMS, without its creation time and ID (so the same bytes every time)."""
    data = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile(name)).tobytes())
    data[24:36] = bytes(12)  # creation date and time
    data[84:100] = bytes(16)  # profile ID (an MD5 that covers the date): zero means not computed
    return bytes(data)


def _broken_icc(rng: random.Random) -> bytes:
    profile = _profile("sRGB")
    cut = bytearray(profile[: rng.randint(0, len(profile))])
    for _ in range(rng.randint(0, 8)):
        if cut:
            cut[rng.randrange(len(cut))] ^= 0xFF
    fmt = rng.choice(["JPEG", "PNG"])
    return _save(_picture(rng), fmt, icc_profile=bytes(cut) or b"\0")


def _lab_icc(rng: random.Random) -> bytes:
    return _save(_picture(rng), "JPEG", icc_profile=_profile("LAB"))  # RGB tagged with a profile that does not fit


def _png16(rng: random.Random) -> bytes:
    im = _picture(rng)
    return png16_rgb(im) if rng.random() < 0.5 else png16_grey(rng.randint(0, 65535), im.size)


def _float_tiff(rng: random.Random) -> bytes:
    a = np.asarray(_picture(rng).convert("L"), dtype=np.float32) / rng.choice([1.0, 255.0, 0.01])
    return _save(Image.fromarray(a, "F"), "TIFF")


VALID: dict[str, Maker] = {
    "jpeg": lambda r: (_save(_picture(r), "JPEG", quality=r.randint(5, 100)), "jpg"),
    "jpeg_progressive": lambda r: (_save(_picture(r), "JPEG", progressive=True), "jpg"),
    "jpeg_cmyk": lambda r: (_save(_picture(r).convert("CMYK"), "JPEG"), "jpg"),
    "jpeg_grey": lambda r: (_save(_picture(r).convert("L"), "JPEG"), "jpg"),
    "jpeg_exif_orientation": lambda r: (_save(_picture(r), "JPEG", exif=_exif(r.randint(0, 9))), "jpg"),
    "jpeg_lab_icc": lambda r: (_lab_icc(r), "jpg"),
    "broken_icc": lambda r: (_broken_icc(r), "jpg"),
    "mpo": lambda r: (_save(_picture(r), "MPO", save_all=True, append_images=[_picture(r)]), "jpg"),
    "png": lambda r: (_save(_picture(r), "PNG"), "png"),
    "png_rgba": lambda r: (_save(_picture(r).convert("RGBA"), "PNG"), "png"),
    "png_la": lambda r: (_save(_picture(r).convert("LA"), "PNG"), "png"),
    "png_1bit": lambda r: (_save(_picture(r).convert("1"), "PNG"), "png"),
    "png_palette_transparency": lambda r: (
        _save(_picture(r).convert("P"), "PNG", transparency=r.randint(0, 255)),
        "png",
    ),  # fmt: skip
    "png_16bit": lambda r: (_png16(r), "png"),
    "png_exif_orientation": lambda r: (_save(_picture(r), "PNG", exif=_exif(r.randint(1, 8))), "png"),
    "apng": lambda r: (_animated(r, "PNG"), "png"),
    "gif": lambda r: (_save(_paletted(_picture(r), r), "GIF"), "gif"),
    "gif_animated": lambda r: (_animated(r, "GIF"), "gif"),
    "webp": lambda r: (_save(_picture(r), "WEBP", lossless=r.random() < 0.3), "webp"),
    "webp_animated": lambda r: (_animated(r, "WEBP"), "webp"),
    "tiff": lambda r: (_save(_picture(r), "TIFF", compression=r.choice(["raw", "tiff_lzw", "tiff_deflate"])), "tif"),
    "tiff_cmyk": lambda r: (_save(_picture(r).convert("CMYK"), "TIFF"), "tif"),
    "tiff_16bit": lambda r: (
        _save(Image.fromarray(np.asarray(_picture(r).convert("L"), np.uint16) * 257), "TIFF"),
        "tif",
    ),  # fmt: skip
    "tiff_float": lambda r: (_float_tiff(r), "tif"),
    "tiff_pages": lambda r: (_tiff_pages(r), "tif"),
    "bmp": lambda r: (_save(_picture(r), "BMP"), "bmp"),
    "ico": lambda r: (_save(_picture(r), "ICO"), "ico"),
    "tga": lambda r: (_save(_picture(r), "TGA"), "tga"),
    "ppm": lambda r: (_save(_picture(r), "PPM"), "ppm"),
    "pcx": lambda r: (_save(_picture(r), "PCX"), "pcx"),
    "sgi": lambda r: (_save(_picture(r), "SGI"), "sgi"),
    "jpeg2000": lambda r: (_save(_picture(r), "JPEG2000"), "jp2"),
    "qoi": lambda r: (_save(_picture(r), "QOI"), "qoi"),
    "dds": lambda r: (_save(_picture(r), "DDS"), "dds"),
    "eps": lambda r: (_save(_picture(r), "EPS"), "eps"),  # decoding needs Ghostscript
    "pdf": lambda r: (_save(_picture(r), "PDF", creationDate=_EPOCH, modDate=_EPOCH), "pdf"),  # written, never read
}
if features.check("avif"):
    VALID["avif"] = lambda r: (_save(_picture(r), "AVIF", quality=r.randint(20, 90)), "avif")


def _flip(data: bytes, rng: random.Random, lo: int, hi: int) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        out[rng.randrange(lo, max(lo + 1, min(hi, len(out))))] ^= 1 << rng.randrange(8)
    return bytes(out)


def _huge(data: bytes, rng: random.Random) -> bytes:
    """The file with its declared width and height made huge (a decompression bomb's header, or just a lie)."""
    w, h = rng.choice([(100_000, 100_000), (65_535, 65_535), (9_000, 8_000), (1, 60_000_000), (2**31 - 1, 1)])
    out = bytearray(data)
    if data.startswith(b"\x89PNG"):
        out[16:24] = struct.pack(">II", w, h)
        out[29:33] = struct.pack(">I", zlib.crc32(bytes(out[12:29])) & 0xFFFFFFFF) if rng.random() < 0.7 else out[29:33]
    elif data.startswith(b"GIF8"):
        out[6:10] = struct.pack("<HH", min(w, 65535), min(h, 65535))
    elif data.startswith(b"BM"):
        out[18:26] = struct.pack("<ii", min(w, 2**31 - 1), min(h, 2**31 - 1))
    elif data.startswith(b"\xff\xd8") and (sof := data.find(b"\xff\xc0")) > 0:
        out[sof + 5 : sof + 9] = struct.pack(">HH", min(h, 65535), min(w, 65535))
    else:
        return _flip(data, rng, 0, 32)
    return bytes(out)


MUTATIONS: dict[str, Callable[[bytes, random.Random], bytes]] = {
    "none": lambda d, r: d,
    "truncate": lambda d, r: d[: r.randrange(1, len(d))] if len(d) > 1 else b"",
    "flip_header": lambda d, r: _flip(d, r, 0, 64),
    "flip_anywhere": lambda d, r: _flip(d, r, 0, len(d)),
    "huge_declared_size": _huge,
    "zero_block": lambda d, r: (lambda i, n: d[:i] + b"\0" * n + d[i + n :])(r.randrange(len(d)), r.randint(1, 512)),
    "garbage_before": lambda d, r: r.randbytes(r.randint(1, 64)) + d,
    "garbage_after": lambda d, r: d + r.randbytes(r.randint(1, 4096)),
    "doubled": lambda d, r: d + d,
}


def _dds_unimplemented() -> bytes:
    """A DDS header with a pixel format Pillow does not implement: Image.open raises NotImplementedError."""
    hdr = struct.pack("<4sI", b"DDS ", 124) + struct.pack("<IIIIII", 0x1007, 64, 64, 0, 0, 0) + b"\0" * 44
    return hdr + struct.pack("<II4sIIIII", 32, 0x4, b"XYZ1", 0, 0, 0, 0, 0) + b"\0" * 20 + b"\0" * 4096


def _png_header(w: int, h: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(b"\0" * 64)) + _chunk(b"IEND", b"")
    )


def _ico_with_bomb() -> bytes:
    """An ICO whose directory says 16x16 but whose PNG is 30000x30000: DecompressionBombError inside load()."""
    big = _png_header(30_000, 30_000)
    return struct.pack("<HHH", 0, 1, 1) + struct.pack("<BBBBHHII", 16, 16, 0, 0, 1, 32, len(big), 22) + big


def _tiff_compression(code: int) -> bytes:
    """A TIFF whose compression tag says `code` (50001: WebP, which libtiff may lack; 34887: LERC, never read)."""
    data = bytearray(_save(Image.new("RGB", (300, 300), (9, 99, 199)), "TIFF"))
    ifd = struct.unpack("<I", data[4:8])[0]
    for k in range(struct.unpack("<H", data[ifd : ifd + 2])[0]):
        e = ifd + 2 + 12 * k
        if struct.unpack("<H", data[e : e + 2])[0] == 259:
            struct.pack_into("<H", data, e + 8, code)
    return bytes(data)


def _bmp_compression(code: int) -> bytes:
    data = bytearray(_save(Image.new("RGB", (300, 300), (9, 99, 199)), "BMP"))
    struct.pack_into("<I", data, 30, code)
    return bytes(data)


# (bytes, extension, the reason curation must give; None: decoded, or whichever reason fits this machine)
CRAFTED: dict[str, Callable[[], tuple[bytes, str, str | None]]] = {
    "empty": lambda: (b"", "jpg", "empty"),
    "html_error_page": lambda: (b"<!DOCTYPE html><html><body>403 Forbidden</body></html>\n", "jpg", "unidentifiable"),
    "text": lambda: (b"just some text\n" * 20, "png", "unidentifiable"),
    "zip": lambda: (b"PK\x03\x04" + bytes(60), "jpg", "unidentifiable"),
    "mp4": lambda: (b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41" + bytes(200), "jpg", "unidentifiable"),
    "svg": lambda: (
        b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="9"/>',
        "jpg",
        "unsupported_format",
    ),  # fmt: skip
    "pdf_header": lambda: (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "jpg", "unsupported_format"),
    "heic": lambda: (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(300), "heic", "decoder_unavailable"),
    "jpeg_xl": lambda: (b"\xff\x0a\xfa\x7f\x01\x90\x08" + bytes(200), "jxl", "decoder_unavailable"),
    "dds_unimplemented": lambda: (_dds_unimplemented(), "dds", "unsupported_format"),
    "bmp_unknown_compression": lambda: (_bmp_compression(9), "bmp", "unsupported_format"),
    "tiff_lerc": lambda: (_tiff_compression(34887), "tif", "unsupported_format"),
    "tiff_webp": lambda: (_tiff_compression(50001), "tif", None),  # decoder_unavailable where libtiff lacks WebP
    "eps": lambda: (
        b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 300 300\n%%EndComments\n0 0 moveto 300 300 lineto "
        b"stroke\nshowpage\n%%EOF\n",
        "eps",
        None,
    ),  # fmt: skip  # decoder_unavailable without Ghostscript
    "png_bomb_header": lambda: (_png_header(100_000, 100_000), "png", "decompression_bomb"),
    "png_above_max_pixels": lambda: (_png_header(9_000, 8_000), "png", "decompression_bomb"),
    "ico_bomb_in_load": lambda: (_ico_with_bomb(), "ico", "decompression_bomb"),
    "png_text_bomb": lambda: (
        _save(Image.new("RGB", (300, 300), (1, 2, 3)), "PNG")[:33]
        + _chunk(b"zTXt", b"k\0\0" + zlib.compress(b"a" * 20_000_000))
        + _save(Image.new("RGB", (300, 300), (1, 2, 3)), "PNG")[33:],
        "png",
        "decompression_bomb",
    ),  # fmt: skip
    "png_cut_in_header": lambda: (_save(Image.new("RGB", (300, 300), (1, 2, 3)), "PNG")[:30], "png", "truncated"),
    "jpeg_cut": lambda: (_save(scene(3, (400, 300)), "JPEG")[:2000], "jpg", "truncated"),
    "random_bytes": lambda: (random.Random(7).randbytes(3000), "jpg", "unidentifiable"),
}


def found_on_machine(limit: int | None = None) -> list[Path]:
    """Image files (by extension) that ship inside the installed packages and the standard library: icons, sample
    data, test images of matplotlib, scipy, Pillow and others; one path per distinct content, sorted."""
    roots = {Path(sysconfig.get_paths()[k]) for k in ("purelib", "platlib", "stdlib")} | {Path(sys.prefix)}
    seen: dict[str, Path] = {}
    for root in sorted(roots):
        if not root.is_dir():
            continue
        for p in sorted(root.rglob("*")):
            if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file() and not p.is_symlink():
                try:
                    seen.setdefault(hashlib.sha256(p.read_bytes()).hexdigest(), p)
                except OSError:
                    continue
    return sorted(seen.values())[:limit]


def hostile_file(rng: random.Random) -> tuple[bytes, str, str]:
    """One generated hostile file: (bytes, extension, what it is, e.g. 'png_16bit+truncate')."""
    name = rng.choice(sorted(VALID))
    for _ in range(20):  # some writers refuse some sizes (ICO: a 1x1, SGI: a strip): draw another size
        try:
            data, ext = VALID[name](rng)
            break
        except (ValueError, OSError):
            continue
    else:
        name = "jpeg"
        data, ext = VALID[name](rng)
    mutation = rng.choice(sorted(MUTATIONS))
    data = MUTATIONS[mutation](data, rng)
    if rng.random() < 0.15:
        ext = rng.choice(WRONG_EXTENSIONS)
    return data, ext, f"{name}+{mutation}"


def write_raw(raw: Path, domain: str, n: int, data: bytes, ext: str) -> Path:
    """Store a file under raw/<domain>/ with a unique name (the n-th file, whatever its content or extension)."""
    path = raw / domain / (f"{n:05d}.{ext}" if ext else f"{n:05d}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def hostile_corpus(raw: Path, n_generated: int, seed: int, found: list[Path] | None = None) -> dict[str, int]:
    """A raw folder of `n_generated` seeded hostile files, every CRAFTED file and the `found` files (copied),
    spread over A and B. Returns how many files of each kind were written (kind: VALID name, or 'crafted', 'found')."""
    rng = random.Random(seed)
    kinds: dict[str, int] = {}
    n = 0
    for _ in range(n_generated):
        data, ext, what = hostile_file(rng)
        write_raw(raw, rng.choice("AB"), n, data, ext)
        kinds[what.split("+")[0]] = kinds.get(what.split("+")[0], 0) + 1
        n += 1
    for make in CRAFTED.values():
        data, ext, _ = make()
        write_raw(raw, "AB"[n % 2], n, data, ext)
        n += 1
    kinds["crafted"] = len(CRAFTED)
    for p in found or []:
        write_raw(raw, "AB"[n % 2], n, p.read_bytes(), p.suffix.lstrip("."))
        n += 1
    kinds["found"] = len(found or [])
    return kinds
