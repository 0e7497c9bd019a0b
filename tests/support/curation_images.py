"""Generated images for the curation tests: distinct scenes, planted near-duplicates and every kind of bad file."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw


def scene(seed: int, size: tuple[int, int] = (384, 288)) -> Image.Image:
    """A distinct colourful picture: smooth random colour field plus a few random shapes."""
    rng = np.random.default_rng(seed)
    field = (rng.random((6, 8, 3)) * 255).astype(np.uint8)
    im = Image.fromarray(field).resize(size, Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(im)
    w, h = size
    for _ in range(6):
        x0, y0 = int(rng.integers(0, w - 20)), int(rng.integers(0, h - 20))
        x1, y1 = x0 + int(rng.integers(10, w // 2)), y0 + int(rng.integers(10, h // 2))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x0, y0, x1, y1), fill=colour)
    return im


def jpeg_bytes(im: Image.Image, quality: int = 92, **kw) -> bytes:
    """`im` encoded as JPEG."""
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality, **kw)
    return buf.getvalue()


def png_bytes(im: Image.Image, **kw) -> bytes:
    """`im` encoded as PNG."""
    buf = io.BytesIO()
    im.save(buf, "PNG", **kw)
    return buf.getvalue()


# planted near-duplicates of an original picture
def recompressed(im: Image.Image) -> bytes:
    return jpeg_bytes(im, quality=30)


def resized(im: Image.Image, factor: float = 0.75) -> bytes:
    return jpeg_bytes(im.resize((round(im.width * factor), round(im.height * factor)), Image.Resampling.LANCZOS))


def brightened(im: Image.Image, factor: float = 1.2) -> bytes:
    a = np.clip(np.asarray(im, dtype=np.float32) * factor, 0, 255).astype(np.uint8)
    return jpeg_bytes(Image.fromarray(a))


def cropped(im: Image.Image, frac: float = 0.03) -> bytes:
    dx, dy = round(im.width * frac), round(im.height * frac)
    return jpeg_bytes(im.crop((dx, dy, im.width - dx, im.height - dy)))


def exif_rotated(im: Image.Image) -> bytes:
    """The picture stored rotated 90 degrees with EXIF orientation 6, so viewers (and exif_transpose) undo it."""
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 CW to display
    return jpeg_bytes(im.transpose(Image.Transpose.ROTATE_90), exif=exif.tobytes())


# files that must be rejected, each with its reason
def truncated_jpeg(seed: int = 1) -> bytes:
    data = jpeg_bytes(scene(seed))
    return data[: len(data) * 2 // 3]


def html_as_jpg() -> bytes:
    return b"<!DOCTYPE html><html><head><title>403 Forbidden</title></head><body>Forbidden</body></html>\n"


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims width x height (RGB) with a tiny IDAT: the header of a decompression bomb."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def png16_rgb(im: Image.Image) -> bytes:
    """`im` as a 48-bit (16 bits per channel) RGB PNG, written by hand (Pillow cannot write one)."""
    a = np.asarray(im.convert("RGB"), dtype=np.uint16) * 257  # (H, W, 3) full 16-bit range
    rows = b"".join(b"\0" + a[y].astype(">u2").tobytes() for y in range(a.shape[0]))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", im.width, im.height, 16, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def png16_grey(value: int, size: tuple[int, int] = (320, 300)) -> bytes:
    """A 16-bit grey PNG ('I;16') with a gradient around `value` (0..65535)."""
    ramp = np.linspace(-4000, 4000, size[0])[None, :].repeat(size[1], axis=0)
    a = np.clip(value + ramp, 0, 65535).astype(np.uint16)
    return png_bytes(Image.fromarray(a))


def cmyk_jpeg(seed: int) -> bytes:
    return jpeg_bytes(scene(seed).convert("CMYK"))


def palette_with_transparency(seed: int) -> bytes:
    """A P-mode PNG whose transparent index covers the left half (it must come out white there)."""
    im = scene(seed).convert("P", palette=Image.Palette.ADAPTIVE, colors=64)
    a = np.asarray(im).copy()
    a[:, : im.width // 2] = 63
    out = Image.fromarray(a, "P")
    out.putpalette(im.getpalette())
    return png_bytes(out, transparency=63)


def animated_gif(seed: int, frames: int = 3) -> bytes:
    ims = [scene(seed + i).convert("P", palette=Image.Palette.ADAPTIVE) for i in range(frames)]
    buf = io.BytesIO()
    ims[0].save(buf, "GIF", save_all=True, append_images=ims[1:], duration=100, loop=0)
    return buf.getvalue()


def grayscale_jpeg(seed: int) -> bytes:
    return jpeg_bytes(scene(seed).convert("L").convert("RGB"))


def near_uniform_jpeg() -> bytes:
    rng = np.random.default_rng(0)
    a = np.clip(200 + rng.normal(0, 1.0, (300, 400, 3)), 0, 255).astype(np.uint8)
    return jpeg_bytes(Image.fromarray(a))


def put(raw_dir: Path, domain: str, data: bytes, ext: str = "jpg") -> Path:
    """Store bytes as the scraper does: <raw>/<domain>/<sha256>.<ext>; return the path."""
    sha = hashlib.sha256(data).hexdigest()
    path = raw_dir / domain / f"{sha}.{ext}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def sha(data: bytes) -> str:
    """The id curation gives these bytes."""
    return hashlib.sha256(data).hexdigest()


BAD_FILES = {
    # reason: (domain, bytes, extension)
    "truncated": lambda: ("A", truncated_jpeg(), "jpg"),
    "unidentifiable": lambda: ("A", html_as_jpg(), "jpg"),
    "empty": lambda: ("A", b"", "jpg"),
    "decompression_bomb": lambda: ("A", png_header_only(100_000, 100_000), "png"),
    "too_small": lambda: ("B", jpeg_bytes(scene(60, (200, 150))), "jpg"),
    "aspect_ratio": lambda: ("B", jpeg_bytes(scene(61, (1200, 300))), "jpg"),
    "animated": lambda: ("B", animated_gif(62), "gif"),
    "grayscale": lambda: ("B", grayscale_jpeg(63), "jpg"),
    "near_uniform": lambda: ("B", near_uniform_jpeg(), "jpg"),
}
PLANTED = {"recompressed": recompressed, "resized": resized, "brightened": brightened, "cropped": cropped,
           "exif_rotated": exif_rotated}  # fmt: skip


def planted_dataset(raw: Path, n_distinct: int = 12) -> dict[str, object]:
    """A raw folder with distinct scenes in A and B, one original with every planted near-duplicate kind in A,
    a copy of one A scene in B (cross-domain), normalisation cases that must be kept, and one file per rejection
    reason. Returns what the tests expect: ids by role."""
    expect: dict[str, object] = {"distinct": [], "rejected": {}, "kept_modes": {}}
    for i in range(n_distinct):
        domain = "A" if i % 2 == 0 else "B"
        expect["distinct"].append(sha(put(raw, domain, jpeg_bytes(scene(1000 + i, (480, 360)))).read_bytes()))
    original = scene(7, (480, 360))
    expect["original"] = sha(put(raw, "A", jpeg_bytes(original, quality=95)).read_bytes())
    expect["planted"] = {k: sha(put(raw, "A", f(original)).read_bytes()) for k, f in PLANTED.items()}
    cross = scene(8, (480, 360))
    expect["cross"] = (sha(put(raw, "A", jpeg_bytes(cross)).read_bytes()),
                       sha(put(raw, "B", jpeg_bytes(cross, quality=80)).read_bytes()))  # fmt: skip
    cross2 = scene(9, (480, 360))
    expect["cross_near"] = (sha(put(raw, "B", jpeg_bytes(cross2)).read_bytes()),
                            sha(put(raw, "A", resized(cross2, 0.8)).read_bytes()),
                            sha(put(raw, "A", brightened(cross2, 1.15)).read_bytes()))  # fmt: skip
    for mode, data, ext in (
        ("CMYK", cmyk_jpeg(70), "jpg"),
        ("P+transparency", palette_with_transparency(71), "png"),
        ("16-bit RGB", png16_rgb(scene(72, (400, 300))), "png"),
    ):
        expect["kept_modes"][mode] = sha(put(raw, "B", data, ext).read_bytes())
    for reason, make in BAD_FILES.items():
        domain, data, ext = make()
        expect["rejected"][reason] = sha(put(raw, domain, data, ext).read_bytes())
    return expect


def dataset_files(root: Path) -> dict[str, str]:
    """The sha256 of every file that makes a curated dataset, by path under `root`: the split folders of both layouts
    and curation/manifest.csv (what must be byte for byte the same however the analysis was run)."""
    out = {}
    for d in ("train", "test", "trainA", "trainB", "testA", "testB"):
        for p in sorted((root / d).rglob("*")) if (root / d).is_dir() else []:
            if p.is_file():
                out[p.relative_to(root).as_posix()] = sha(p.read_bytes())
    out["curation/manifest.csv"] = sha((root / "curation" / "manifest.csv").read_bytes())
    return out
