"""Tests for sakura.app: the page in a real headless Chromium, its translations against `sakura translate`, what it
refuses to take and to serve, and the `sakura app` command."""

from __future__ import annotations

import io
import json
import os
import random
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from core.images import load_rgb
from model.checkpoint import export_generator
from model.networks import NetConfig, ResnetGenerator, init_weights
from sakura.app import AppConfig, UploadRefused, check_photo, start_app
from sakura.cli import main
from tests.support.model_data import make_dataset, street_image
from tests.support.model_images import encode, gradient, png_with_declared_size

NET = NetConfig(ngf=8, n_blocks=2)
# Small limits, so the bad uploads are small files: 1 MB, 0.5 megapixels; 1 MB of memory, so photos are tiled.
LIMITS = dict(max_upload_mb=1, max_megapixels=1, memory_mb=1)


def _train_run(root: Path, run: str, seed: int) -> None:
    """A run with freshly initialised generators, exported as training exports them."""
    for direction in ("A2B", "B2A"):
        torch.manual_seed(seed + (direction == "B2A"))
        sd = init_weights(ResnetGenerator(NET)).state_dict()
        export_generator(root / "runs" / run / "generators" / f"G_{direction}.pt", sd, NET, direction, {})


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    """Generated streets (3 test images a domain) and two runs: `old`, then `new` (the newest, the default)."""
    root = make_dataset(tmp_path_factory.mktemp("app") / "streets", n_train=2, n_test=3, size=(40, 36))
    _train_run(root, "old", seed=5)
    time.sleep(0.05)
    _train_run(root, "new", seed=0)
    (root.parent / "secret.txt").write_text("outside the dataset")
    return root


@pytest.fixture(scope="module")
def page(dataset):
    server = start_app(AppConfig(dataset_dir=dataset, port=0, **LIMITS))
    yield server
    server.close()
    assert not server.app.work.exists()


def _get(url: str, headers: dict | None = None) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def _wait_status(driver, timeout_s: float = 60.0) -> tuple[str, str]:
    """(text, class) of the page's status line once a translation has ended (done or refused)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        text, kind = driver.execute_script(
            "const s = document.getElementById('status'); return [s.textContent, s.className]"
        )
        if kind != "busy" and text:
            return text, kind
        time.sleep(0.1)
    raise AssertionError("the page's status never ended")


def _upload(driver, page, path: Path) -> tuple[str, str]:
    driver.get(page.url)
    driver.find_element("id", "file").send_keys(str(path))
    return _wait_status(driver)


def _photo(tmp_path: Path) -> Path:
    """A 150x90 street photo as a JPEG taken sideways (EXIF orientation 6), as phones write them."""
    im = street_image("A", (90, 150), random.Random(7))
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "my street.jpg"
    im.save(path, quality=90, exif=exif)
    return path


@pytest.mark.browser
@pytest.mark.slow
def test_an_uploaded_photo_comes_back_as_sakura_translate_makes_it(driver, page, dataset, tmp_path, capsys):
    photo = _photo(tmp_path)
    text, kind = _upload(driver, page, photo)
    assert kind == "" and text == "done: my_street_A2B.png", text
    after_url = driver.find_element("id", "after").get_attribute("src")
    before_url = driver.find_element("id", "before").get_attribute("src")
    download = driver.find_element("id", "download")
    assert download.get_attribute("href") == after_url and download.get_attribute("download") == "my_street_A2B.png"
    status, shown = _get(after_url)
    assert status == 200
    slide = "const s = document.getElementById('slider'); s.value = 20; s.dispatchEvent(new Event('input'));"
    driver.execute_script(slide)
    assert driver.find_element("id", "before").value_of_css_property("clip-path") == "inset(0px 80% 0px 0px)"

    out = tmp_path / "cli"
    rc = main(["translate", str(photo), "--root", str(dataset), "--out-dir", str(out), "--memory-mb", "1"])
    assert rc == 0 and "translated layer by layer in tiles" in capsys.readouterr().out
    expected = out / "my street.png"
    assert shown == expected.read_bytes()  # the same file: same run (the newest), same tiles, same encoding
    on_page = Image.open(io.BytesIO(shown))
    assert on_page.size == (150, 90)  # full size, upright
    assert np.array_equal(np.asarray(on_page), np.asarray(Image.open(expected)))
    _, before = _get(before_url)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(before))), np.asarray(load_rgb(photo)))


@pytest.mark.browser
@pytest.mark.slow
def test_run_and_direction_are_chosen_on_the_page(driver, page, dataset, tmp_path):
    driver.get(page.url)
    options = [o.text for o in driver.find_elements("css selector", "#run option")]
    assert options == ["new", "old"] and driver.execute_script("return document.getElementById('run').value") == "new"
    driver.execute_script("document.getElementById('run').value = 'old'")
    driver.find_element("css selector", "input[name=direction][value=B2A]").click()
    photo = tmp_path / "b.png"
    street_image("B", (64, 48), random.Random(2)).save(photo)
    driver.find_element("id", "file").send_keys(str(photo))
    assert _wait_status(driver) == ("done: b_B2A.png", "")
    _, shown = _get(driver.find_element("id", "after").get_attribute("src"))
    main(["translate", str(photo), "--root", str(dataset), "--run-name", "old", "--direction", "B2A",
          "--out-dir", str(tmp_path / "cli")])  # fmt: skip
    assert shown == (tmp_path / "cli" / "b.png").read_bytes()


@pytest.mark.browser
@pytest.mark.slow
def test_a_test_image_of_the_dataset_is_picked_with_its_direction(driver, page, dataset):
    driver.get(page.url)
    thumbs = driver.find_elements("css selector", "#tests img")
    assert [t.get_attribute("data-id") for t in thumbs] == [f"{d}/{d}_{i:03d}.png" for d in "AB" for i in range(3)]
    thumbs[4].click()
    assert _wait_status(driver) == ("done: B_001_B2A.png", "")
    assert driver.find_element("css selector", "input[value=B2A]").is_selected()
    _, shown = _get(driver.find_element("id", "after").get_attribute("src"))
    assert Image.open(io.BytesIO(shown)).size == (40, 36)


def _jpeg(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "JPEG")
    return buf.getvalue()


def _bad_uploads(folder: Path) -> dict[str, tuple[Path, str]]:
    """name -> (file, what the page must say)."""
    files = {
        "not an image": ("notes.jpg", b"these are my holiday notes, not a photo\n" * 20),
        "decompression bomb": ("bomb.png", png_with_declared_size(60_000, 60_000)),
        "1x300": ("thin.png", encode(1, 300, "RGB", "PNG")),
        "huge photo": ("huge.jpg", _jpeg(gradient(1600, 1200))),
        "over the upload limit": ("big.bmp", b"BM" + os.urandom(1_300_000)),
        "truncated": ("cut.jpg", encode(200, 150, "RGB", "JPEG")[:9000]),
    }
    said = {
        "not an image": "not an image this page can read",
        "decompression bomb": "a decompression bomb: Image size (3600000000 pixels) exceeds limit",
        "1x300": "1x300 px is too thin: this page translates photos of at least 32 px a side",
        "huge photo": "1600x1200 px is 1.9 megapixels; this page translates up to 1",
        "over the upload limit": "the file is 1.2 MB; this page takes files up to 1 MB",
        "truncated": "could not translate it: cannot read",
    }
    for file, data in files.values():
        (folder / file).write_bytes(data)
    return {name: (folder / file, said[name]) for name, (file, _) in files.items()}


@pytest.mark.browser
@pytest.mark.slow
def test_each_bad_upload_gets_its_message(driver, page, tmp_path):
    for name, (path, message) in _bad_uploads(tmp_path).items():
        text, kind = _upload(driver, page, path)
        assert kind == "err" and message in text, (name, text)
        assert "Traceback" not in text and driver.find_element("id", "result").get_attribute("hidden"), name
    assert len(list(page.app.work.iterdir())) == len(page.app.results)  # refused uploads leave nothing behind


def test_the_server_refuses_an_upload_over_the_limit_by_its_length(page):
    req = urllib.request.Request(page.url + "translate?run=new&direction=A2B&name=x.jpg", data=os.urandom(1_500_000),
                                 headers={"Content-Type": "application/octet-stream"})  # fmt: skip
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=30)
    assert e.value.code == 413 and "this page takes files up to 1 MB" in json.loads(e.value.read())["error"]


@pytest.mark.parametrize(
    ("size", "said"),
    [((8000, 6000), "48.0 megapixels; this page translates up to 40"), ((30_000, 30_000), "a decompression bomb"),
     ((300, 1), "300x1 px is too thin"), ((31, 4000), "too thin")],
)  # fmt: skip
def test_photo_rule_at_the_default_limits(tmp_path, size, said):
    path = tmp_path / "x.png"
    path.write_bytes(png_with_declared_size(*size))
    with pytest.raises(UploadRefused, match=said):
        check_photo(path, AppConfig())
    path.write_bytes(png_with_declared_size(4000, 3000))
    assert check_photo(path, AppConfig()) == (4000, 3000)


@pytest.mark.parametrize(
    "path",
    ["/thumb/A/../../../secret.txt", "/thumb/A%2F..%2F..%2F..%2Fsecret.txt", "/thumb/../secret.txt",
     "/result/../../secret.txt", "/result/x/after.png", "/etc/passwd", "/file=/etc/passwd",
     "/gradio_api/file=/etc/passwd", "/secret.txt", "/../secret.txt", "/runs/new/generators/G_A2B.pt",
     "/train/A/A_000.png", "/test/A/A_000.png"],
)  # fmt: skip
def test_nothing_but_the_page_its_thumbnails_and_results_is_served(page, path):
    status, body = _get(page.url.rstrip("/") + path)
    assert status == 404 and b"outside" not in body


def test_only_its_own_address_and_its_own_script_are_answered(page):
    assert _get(page.url)[0] == 200 and _get(page.url + "thumb/A/A_000.png")[0] == 200
    assert _get(page.url, {"Host": "evil.example:80"})[0] == 403  # DNS rebinding
    form = urllib.request.Request(page.url + "translate?run=new&direction=A2B&test=A/A_000.png", data=b"x=1",
                                  headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(form, timeout=30)
    assert e.value.code == 403


@pytest.mark.browser
def test_without_a_trained_run_the_page_says_how_to_get_one(driver, tmp_path):
    root = make_dataset(tmp_path / "streets", n_train=1, n_test=1)
    server = start_app(AppConfig(dataset_dir=root, port=0))
    try:
        driver.get(server.url)
        shown = driver.find_element("id", "no-run")
        assert shown.is_displayed() and "make demo" in shown.text and "no trained run" in shown.text.lower()
        assert not driver.find_element("id", "controls").is_displayed()
    finally:
        server.close()


@pytest.mark.slow
def test_sakura_app_command_serves_the_page_and_ends_on_sigterm(dataset):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.Popen([sys.executable, "-m", "sakura", "app", "--root", str(dataset), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)  # fmt: skip
    try:
        line = proc.stdout.readline()
        assert line.startswith("sakura app: http://127.0.0.1:"), line + proc.stderr.read()
        url = line.split()[2]
        status, body = _get(url)
        assert status == 200 and b'"runs": ["new", "old"]' in body
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "stopped" in proc.stdout.read()


def test_a_taken_port_is_one_line(page, dataset, capsys):
    port = page.httpd.server_address[1]
    assert main(["app", "--root", str(dataset), "--port", str(port)]) == 2
    assert f"127.0.0.1:{port} is not free" in capsys.readouterr().err
