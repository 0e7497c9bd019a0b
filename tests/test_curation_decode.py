"""Tests for curation.decode: decoding, rejection of broken files, normalisation to sRGB RGB, staging."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import EpsImagePlugin, Image, ImageCms

from core.images import to_srgb
from curation.config import CurationConfig
from curation.decode import DecodeSettings, analyse_file, output_size, staged_path
from curation.diagnose import tiff_codec_available
from curation.records import Analysis, Reason
from tests.support import curation_hostile as ch
from tests.support import curation_images as ci


@pytest.fixture
def settings(tmp_path) -> DecodeSettings:
    return DecodeSettings.of(CurationConfig(), tmp_path / "staged")


def _analyse(tmp_path, data: bytes, settings: DecodeSettings, ext: str = "jpg") -> Analysis:
    path = ci.put(tmp_path / "raw", "A", data, ext)
    return analyse_file("A", str(path), f"A/{path.name}", settings)


def _staged(rec: Analysis, settings: DecodeSettings) -> Image.Image:
    im = Image.open(os.path.join(settings.staging, rec.staged))
    im.load()
    return im


@pytest.mark.parametrize(
    "make, reason",
    [
        (ci.truncated_jpeg, Reason.TRUNCATED),
        (ci.html_as_jpg, Reason.UNIDENTIFIABLE),
        (lambda: b"", Reason.EMPTY),
        (lambda: ci.png_header_only(100_000, 100_000), Reason.DECOMPRESSION_BOMB),  # Pillow's own hard limit
        (lambda: ci.png_header_only(9000, 8000), Reason.DECOMPRESSION_BOMB),  # above our max_pixels, below Pillow's
        (lambda: ci.png_header_only(300, 300), Reason.TRUNCATED),  # a header with no real pixel data
        (lambda: ci.animated_gif(3)[: len(ci.animated_gif(3)) // 3], Reason.TRUNCATED),  # cut inside frame 1
    ],
)
def test_undecodable_files_fail_with_reason(tmp_path, settings, make, reason):
    rec = _analyse(tmp_path, make(), settings)
    assert (rec.ok, rec.reason) == (False, reason), rec
    assert rec.detail and rec.staged is None


def test_bomb_is_rejected_before_decoding(tmp_path):
    """A 2000x2000 picture passes at the default limit and is rejected, unread, at max_pixels = 1M."""
    data = ci.jpeg_bytes(ci.scene(3, (2000, 2000)))
    small = DecodeSettings.of(CurationConfig(max_pixels=1_000_000), tmp_path / "s")
    rec = _analyse(tmp_path, data, small)
    assert rec.reason is Reason.DECOMPRESSION_BOMB and "4,000,000" in rec.detail
    assert not (tmp_path / "s").exists()


def test_truncated_jpeg_is_never_loaded_partially(tmp_path, settings):
    from PIL import ImageFile

    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    assert _analyse(tmp_path, ci.truncated_jpeg(5), settings).reason is Reason.TRUNCATED


def test_the_same_pixels_in_other_bytes_have_one_pixel_hash_and_staged_copy(tmp_path, settings):
    im = ci.scene(7, (480, 360))
    one = _analyse(tmp_path, ci.jpeg_bytes(im), settings)
    other = _analyse(tmp_path, ci.jpeg_bytes(im, comment=b"other bytes", dpi=(300, 300)), settings)
    recompressed = _analyse(tmp_path, ci.recompressed(im), settings)
    assert one.sha256 != other.sha256 and one.pixel_hash == other.pixel_hash != recompressed.pixel_hash
    assert _staged_bytes(one, settings) == _staged_bytes(other, settings)  # no metadata of the raw file carried over


def _staged_bytes(rec, settings) -> bytes:
    return (Path(settings.staging) / rec.staged).read_bytes()


def test_good_jpeg_measured_hashed_and_staged(tmp_path, settings):
    data = ci.jpeg_bytes(ci.scene(4, (640, 480)))
    rec = _analyse(tmp_path, data, settings)
    assert rec.ok and (rec.width, rec.height) == (640, 480)
    assert rec.sha256 == ci.sha(data) and rec.bytes == len(data)
    assert len(rec.phash) == 16 and len(rec.pixel_hash) == 32
    out = _staged(rec, settings)
    assert out.size == output_size((640, 480), 286) == (381, 286)
    assert os.path.join(settings.staging, rec.staged) == str(staged_path(settings.staging, rec.sha256, "jpg"))


def test_exif_orientation_applied(tmp_path, settings):
    im = ci.scene(5, (480, 360))
    upright = _analyse(tmp_path, ci.jpeg_bytes(im, quality=95), settings)
    rotated = _analyse(tmp_path, ci.exif_rotated(im), settings)
    assert (rotated.width, rotated.height) == (480, 360)
    assert _staged(rotated, settings).size == (381, 286)
    assert bin(int(upright.phash, 16) ^ int(rotated.phash, 16)).count("1") <= 4


def test_cmyk_becomes_rgb(tmp_path, settings):
    rec = _analyse(tmp_path, ci.cmyk_jpeg(6), settings)
    assert rec.ok and rec.mode == "CMYK"
    assert _staged(rec, settings).mode == "RGB"


def test_palette_transparency_composited_on_white(tmp_path, settings):
    rec = _analyse(tmp_path, ci.palette_with_transparency(7), settings, "png")
    out = np.asarray(_staged(rec, settings))
    left = out[:, : out.shape[1] // 2 - 8]
    assert rec.mode == "P" and left.min() >= 245  # transparent half is white, not black


def test_16_bit_rgb_is_scaled_not_clipped(tmp_path, settings):
    im = ci.scene(8, (400, 300))
    rec16 = _analyse(tmp_path, ci.png16_rgb(im), settings, "png")
    rec8 = _analyse(tmp_path, ci.png_bytes(im), settings, "png")
    a16, a8 = (np.asarray(_staged(r, settings), dtype=np.int16) for r in (rec16, rec8))
    assert np.abs(a16 - a8).mean() < 2.0


def test_16_bit_grey_is_scaled_to_8_bits(tmp_path, settings):
    rec = _analyse(tmp_path, ci.png16_grey(40_000), settings, "png")
    mean = np.asarray(_staged(rec, settings)).mean()
    assert abs(mean - 40_000 / 257) < 3  # clipping would give 255


def test_animated_gif_first_frame_and_frame_count(tmp_path, settings):
    rec = _analyse(tmp_path, ci.animated_gif(9, frames=3), settings, "gif")
    assert rec.ok and rec.frames == 3
    assert _staged(rec, settings).mode == "RGB"


def test_icc_profile_converted_to_srgb():
    lab_like = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    im = ci.scene(10, (64, 48))
    buf = io.BytesIO()
    im.save(buf, "PNG", icc_profile=lab_like.tobytes())
    with Image.open(io.BytesIO(buf.getvalue())) as tagged:
        tagged.load()
        out, icc = to_srgb(tagged)
    assert icc == "converted" and out.mode == "RGB"
    assert np.abs(np.asarray(out, np.int16) - np.asarray(im, np.int16)).max() <= 3  # sRGB -> sRGB keeps pixels


def test_broken_icc_profile_is_recorded_and_pixels_kept():
    im = ci.scene(11, (64, 48))
    im.info["icc_profile"] = b"not a profile"
    out, icc = to_srgb(im)
    assert icc.startswith("not applied") and out.tobytes() == im.tobytes()


def test_raw_file_is_only_read(tmp_path, settings):
    path = ci.put(tmp_path / "raw", "A", ci.exif_rotated(ci.scene(12, (400, 300))))
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    analyse_file("A", str(path), f"A/{path.name}", settings)
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


def test_unreadable_file(tmp_path, settings):
    rec = analyse_file("A", str(tmp_path / "missing.jpg"), "A/missing.jpg", settings)
    assert (rec.ok, rec.reason) == (False, Reason.UNREADABLE)


def test_multi_picture_jpeg_is_a_still_not_an_animation(tmp_path, settings):
    """Phones write MPO (a JPEG plus a second picture, e.g. depth): frame 1 is the photo, nothing is animated."""
    buf = io.BytesIO()
    ci.scene(13, (400, 300)).save(buf, "MPO", save_all=True, append_images=[ci.scene(14, (400, 300))])
    rec = _analyse(tmp_path, buf.getvalue(), settings)
    assert (rec.ok, rec.format, rec.frames) == (True, "MPO", 1)


def _expected(name: str, want: str | None) -> str:
    if name == "eps":
        return "ok" if EpsImagePlugin.has_ghostscript() else "decoder_unavailable"
    if name == "tiff_webp":
        return "corrupt" if tiff_codec_available("webp") else "decoder_unavailable"  # a made-up WebP stream
    return want


@pytest.mark.parametrize("name", sorted(ch.CRAFTED))
def test_crafted_files_get_the_reason_a_person_would_give(tmp_path, settings, name):
    data, ext, want = ch.CRAFTED[name]()
    rec = _analyse(tmp_path, data, settings, ext)
    assert (rec.reason or "ok") == _expected(name, want), rec.detail
    assert rec.ok or rec.detail


def test_a_missing_codec_is_named(tmp_path, settings):
    if tiff_codec_available("webp"):
        pytest.skip("this libtiff has WebP")
    rec = _analyse(tmp_path, ch.CRAFTED["tiff_webp"]()[0], settings, "tif")
    assert "TIFF compressed with WebP" in rec.detail and "libtiff" in rec.detail


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_is_shown_upright(tmp_path, settings, orientation):
    im = ci.scene(20, (480, 360))
    stored = im if orientation == 1 else im.transpose(_INVERSE[orientation])  # what a camera would have stored
    exif = Image.Exif()
    exif[0x0112] = orientation
    rec = _analyse(tmp_path, ci.jpeg_bytes(stored, quality=95, exif=exif.tobytes()), settings)
    upright_rec = _analyse(tmp_path, ci.jpeg_bytes(im, quality=95), settings)
    assert rec.ok and (rec.width, rec.height) == (480, 360)
    assert bin(int(rec.phash, 16) ^ int(upright_rec.phash, 16)).count("1") <= 4


_T = Image.Transpose
_INVERSE = {2: _T.FLIP_LEFT_RIGHT, 3: _T.ROTATE_180, 4: _T.FLIP_TOP_BOTTOM, 5: _T.TRANSPOSE, 6: _T.ROTATE_90,
            7: _T.TRANSVERSE, 8: _T.ROTATE_270}  # fmt: skip


@pytest.mark.parametrize("value", [0, 9, 300])
def test_an_orientation_outside_1_to_8_keeps_the_picture_as_stored(tmp_path, settings, value):
    exif = Image.Exif()
    exif[0x0112] = value
    rec = _analyse(tmp_path, ci.jpeg_bytes(ci.scene(21, (400, 300)), exif=exif.tobytes()), settings)
    assert rec.ok and (rec.width, rec.height) == (400, 300) and f"orientation {value}" in rec.detail


def test_unreadable_exif_keeps_the_picture(tmp_path, settings):
    data = ci.jpeg_bytes(ci.scene(22, (400, 300)), exif=b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\xff\xff")
    rec = _analyse(tmp_path, data, settings)
    assert rec.ok and (rec.width, rec.height) == (400, 300)


@pytest.mark.parametrize(("size", "ok"), [((1, 40), True), ((40, 1), True), ((1, 60), False), ((3000, 2), False)])
def test_strips_are_staged_or_rejected_by_aspect_without_a_huge_copy(tmp_path, settings, size, ok):
    rec = _analyse(tmp_path, ci.png_bytes(ci.scene(23, (64, 64)).resize(size)), settings, "png")
    assert rec.ok is ok and (ok or rec.reason is Reason.ASPECT_RATIO)
    if ok:
        assert min(_staged(rec, settings).size) == 286


@pytest.mark.parametrize("mode", ["1", "L", "LA", "P", "RGBA", "CMYK", "I;16", "I", "F", "YCbCr"])
def test_every_stored_mode_becomes_rgb(tmp_path, settings, mode):
    im = ci.scene(24, (300, 300))
    im = im.convert("L").convert(mode) if mode in ("I;16", "I", "F") else im.convert(mode)
    rec = _analyse(tmp_path, _tiff(im), settings, "tif")
    assert rec.ok, rec.detail
    assert _staged(rec, settings).mode == "RGB"


def _tiff(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "TIFF")
    return buf.getvalue()


def test_a_large_raw_file_is_hashed_in_blocks_and_decoded_from_disk(tmp_path, settings, monkeypatch):
    import curation.decode as decode

    monkeypatch.setattr(decode, "_IN_MEMORY", 1000)
    data = ci.jpeg_bytes(ci.scene(25, (400, 300)))
    rec = _analyse(tmp_path, data, settings)
    assert rec.ok and rec.sha256 == ci.sha(data) and rec.bytes == len(data)
    cut = _analyse(tmp_path, data[: len(data) // 2], settings)
    assert cut.reason is Reason.TRUNCATED
