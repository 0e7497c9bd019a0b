"""`sakura app`: a page on 127.0.0.1 to try a photo with a trained run: before and after on a slider, at full size."""

from __future__ import annotations

import argparse
import html
import io
import json
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Annotated, Any

from PIL import Image, UnidentifiedImageError
from pydantic import Field

from core.config import TEST, ConfigError, UserError
from core.images import load_rgb, optional_plugins
from core.settings import Cli, NonNegativeInt, PositiveInt, add_arguments, from_args
from model.data import IMAGE_EXTS, domain_dirs
from model.layout import DIRECTIONS, Direction, RunDir, datasets_with_runs
from model.translation import TranslateConfig, translate

ASSETS = Path(__file__).with_name("app_page")
MB = 2**20
THUMB = 112
PIL_BOMB_MP = 2 * (Image.MAX_IMAGE_PIXELS or 89_478_485) // 10**6  # Pillow refuses to open more (megapixels)
NOT_TRANSLATE = ("weights", "inputs", "out_dir", "grids", "progress_bar")  # what the page decides, not a setting


class AppConfig(TranslateConfig):
    """The page's settings: where it listens, what it takes, and the translation settings of `sakura translate`
    (run and direction are the page's defaults; every photo is translated as `sakura translate PHOTO` would)."""

    direction: Direction = Field("A2B", description="the direction the page starts with: A2B or B2A")
    port: Annotated[NonNegativeInt, Field(le=65535)] = Field(7860, description="port on 127.0.0.1 (0: a free one)")
    max_upload_mb: PositiveInt = Field(40, description="largest file the page takes, in MB")
    max_megapixels: Annotated[PositiveInt, Field(le=PIL_BOMB_MP)] = Field(
        40, description="largest photo the page translates, in megapixels (`sakura translate` takes any size)"
    )
    min_side: PositiveInt = Field(32, description="shortest side of a photo the page translates, in pixels")
    keep_results: Annotated[PositiveInt, Cli(hidden=True)] = Field(
        20, description="translations kept for download; older ones are deleted"
    )

    def translate_config(self, source: Path, run: str, direction: str, out_dir: Path) -> TranslateConfig:
        """The settings of `sakura translate SOURCE --run-name RUN --direction D --out-dir OUT` with this config's
        dataset, device, precision and memory."""
        own = {k: v for k, v in self.to_dict().items() if k in TranslateConfig.model_fields and k not in NOT_TRANSLATE}
        return TranslateConfig(**{**own, "inputs": (str(source),), "run": run, "direction": direction,
                                  "out_dir": str(out_dir), "grids": False, "progress_bar": False})  # fmt: skip


class UploadRefused(ValueError):
    """A photo the page does not translate; the message says why and what it takes (`status`: the HTTP answer)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def too_large(size: int, cfg: AppConfig) -> UploadRefused:
    return UploadRefused(f"the file is {size / MB:.1f} MB; this page takes files up to {cfg.max_upload_mb} MB", 413)


def check_photo(path: Path, cfg: AppConfig) -> tuple[int, int]:
    """The rule for what the page translates: a file of at most max_upload_mb that Pillow reads as an image (its
    decompression-bomb limit included), of at most max_megapixels, at least min_side a side. Reads the header only;
    returns (width, height) or raises UploadRefused with the reason."""
    size = path.stat().st_size
    if size > cfg.max_upload_mb * MB:
        raise too_large(size, cfg)
    optional_plugins()
    try:
        with Image.open(path) as im:
            w, h = im.size
    except Image.DecompressionBombError as e:  # Pillow's own limit, from the header: nothing was decoded
        raise UploadRefused(f"a decompression bomb: {e}") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise UploadRefused(f"not an image this page can read (JPEG, PNG, WebP, ...): {type(e).__name__}") from None
    mp = w * h / 1e6
    if mp > cfg.max_megapixels:
        raise UploadRefused(f"{w}x{h} px is {mp:.1f} megapixels; this page translates up to {cfg.max_megapixels} "
                            f"(make it smaller, or use `sakura translate FILE`, which takes any size)")  # fmt: skip
    if min(w, h) < cfg.min_side:
        raise UploadRefused(f"{w}x{h} px is too thin: this page translates photos of at least {cfg.min_side} px a side")
    return w, h


@dataclass(frozen=True)
class Result:
    """One translation on the page: its folder (before.png, the input as the network saw it; the translation)."""

    id: str
    before: Path
    after: Path
    download_name: str
    size: tuple[int, int]


class App:
    """What the page serves: the dataset's trained runs and test images, and the translations made so far (the only
    files it reads: the test images by id, results by id from its own temporary folder)."""

    def __init__(self, cfg: AppConfig) -> None:
        self.cfg = cfg
        self.dataset_dir = cfg.data_dir()
        self.work = Path(tempfile.mkdtemp(prefix="sakura-app-"))
        self.results: dict[str, Result] = {}
        self.thumbs: dict[str, bytes] = {}
        self.lock = threading.Lock()  # one translation at a time: each uses every core

    def runs(self) -> list[RunDir]:
        """Trained runs (with exported generators), newest first."""
        found = [r for r in RunDir.all(self.dataset_dir) if r.has_generators]
        return sorted(found, key=lambda r: r.mtime(), reverse=True)

    def test_images(self) -> dict[str, Path]:
        """id -> test image of the dataset (A first, then B); the id names its domain: A/<file>."""
        try:
            dirs = domain_dirs(self.dataset_dir, TEST)
        except ConfigError:
            return {}
        return {f"{d}/{p.name}": p for d, folder in zip("AB", dirs, strict=True) if folder.is_dir()
                for p in sorted(folder.iterdir()) if p.is_file() and p.suffix.lower() in IMAGE_EXTS}  # fmt: skip

    def no_run_text(self) -> str | None:
        """What the page says instead of its form when the dataset has no trained run; None when it has one."""
        if self.runs():
            return None
        others = [d for d in datasets_with_runs(self.dataset_dir.parent) if d != self.dataset_dir.name]
        where = f" Datasets with trained runs: {', '.join(others)} (sakura app --dataset NAME)." if others else ""
        return (f"No trained run in {self.dataset_dir}/runs yet. Get one offline in a few minutes on a CPU with "
                f"`make demo` (then `sakura app --dataset <name>-demo`), or train on your dataset with "
                f"`sakura train`.{where}")  # fmt: skip

    def translate(self, source: Path, slot: Path, run: str, direction: str, name: str) -> Result:
        """Check one photo and translate it into `slot` as `sakura translate` does; UploadRefused with the reason when
        it cannot be."""
        if direction not in DIRECTIONS:
            raise UploadRefused(f"direction: got {direction!r}; allowed: {', '.join(DIRECTIONS)}")
        if run not in {r.name for r in self.runs()}:
            raise UploadRefused(f"run: no trained run {run!r} in {self.dataset_dir}/runs (reload the page)")
        w, h = check_photo(source, self.cfg)
        with self.lock:
            result = translate(self.cfg.translate_config(source, run, direction, slot / "out"))
            if result.failed:
                raise UploadRefused(f"could not translate it: {result.failed[0].reason}")
            before = slot / "before.png"
            load_rgb(source).save(before, compress_level=1)  # the picture the network was given (upright, sRGB)
            stem = re.sub(r"[^\w.-]+", "_", Path(name).stem)[:80] or "photo"
            done = Result(slot.name, before, result.written[direction][0], f"{stem}_{direction}.png", (w, h))
            self._keep(done)
        return done

    def new_slot(self) -> Path:
        """A fresh folder for one translation."""
        slot = self.work / uuid.uuid4().hex[:16]
        slot.mkdir()
        return slot

    def _keep(self, result: Result) -> None:
        self.results[result.id] = result
        while len(self.results) > self.cfg.keep_results:
            old = self.results.pop(next(iter(self.results)))
            shutil.rmtree(self.work / old.id, ignore_errors=True)

    def thumbnail(self, tid: str) -> bytes | None:
        path = self.test_images().get(tid)
        if path is None:
            return None
        if tid not in self.thumbs:
            im = load_rgb(path)
            im.thumbnail((THUMB * 2, THUMB))
            buf = io.BytesIO()
            im.save(buf, "JPEG", quality=85)
            self.thumbs[tid] = buf.getvalue()
        return self.thumbs[tid]

    def page(self) -> str:
        """The page's HTML: the form (runs newest first, directions, test images) or how to get a trained run."""
        runs = self.runs()
        default = self.cfg.run if self.cfg.run in {r.name for r in runs} else (runs[0].name if runs else None)
        data = {
            "runs": [r.name for r in runs],
            "run": default,
            "direction": self.cfg.direction,
            "tests": list(self.test_images()),
            "maxUploadMB": self.cfg.max_upload_mb,
            "thumb": THUMB,
        }
        notice = self.no_run_text()
        values = {
            "dataset": html.escape(self.dataset_dir.name),
            "notice": f'<p id="no-run">{html.escape(notice)}</p>' if notice else "",
            "hidden": "hidden" if notice else "",
            "data": json.dumps(data).replace("<", "\\u003c"),
            "script": (ASSETS / "page.js").read_text(encoding="utf-8"),
        }
        template = (ASSETS / "page.html").read_text(encoding="utf-8")
        return re.sub(r"\{\{(\w+)\}\}", lambda m: values[m.group(1)], template)

    def close(self) -> None:
        shutil.rmtree(self.work, ignore_errors=True)


def _handler(app: App):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt, *args) -> None:  # quiet: the terminal shows what matters
            pass

        def _send(self, code: int, body: bytes, kind: str, extra: dict[str, str] | None = None) -> None:
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def _json(self, code: int, obj: dict) -> None:
            self._send(code, json.dumps(obj).encode(), "application/json")

        def _own(self) -> bool:
            """Only requests addressed to this server by its loopback name (no DNS rebinding)."""
            port = self.server.server_address[1]
            return self.headers.get("Host") in (f"127.0.0.1:{port}", f"localhost:{port}")

        def do_GET(self) -> None:
            path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
            if not self._own():
                return self._send(403, b"forbidden", "text/plain")
            if path == "/":
                return self._send(200, app.page().encode(), "text/html; charset=utf-8")
            if path.startswith("/thumb/") and (jpeg := app.thumbnail(path[7:])) is not None:
                return self._send(200, jpeg, "image/jpeg")
            parts = path.split("/")  # /result/<id>/before.png | after.png
            if len(parts) == 4 and parts[1] == "result" and (r := app.results.get(parts[2])) is not None:
                file = {"before.png": r.before, "after.png": r.after}.get(parts[3])
                if file is not None and file.is_file():
                    cd = f'inline; filename="{r.download_name if file == r.after else "before.png"}"'
                    return self._send(200, file.read_bytes(), "image/png", {"Content-Disposition": cd})
            return self._send(404, b"not found", "text/plain")

        def do_POST(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            if url.path != "/translate":
                return self._send(404, b"not found", "text/plain")
            # Only this page's own script: a raw body (a cross-site form cannot send application/octet-stream without
            # a CORS preflight, which this server never grants) to the address it was served from.
            if self.headers.get("Content-Type") != "application/octet-stream" or not self._own():
                return self._json(403, {"ok": False, "error": "only the page itself may send photos"})
            q = {k: v[0] for k, v in urllib.parse.parse_qs(url.query).items()}
            slot = app.new_slot()
            try:
                source, name = self._source(q, slot)
                r = app.translate(source, slot, q.get("run", ""), q.get("direction", ""), name)
            except UploadRefused as e:
                shutil.rmtree(slot, ignore_errors=True)
                return self._json(e.status, {"ok": False, "error": str(e)})
            except Exception as e:  # a bug or a failing disk: one line on the page, the traceback in the terminal
                shutil.rmtree(slot, ignore_errors=True)
                traceback.print_exc()
                return self._json(500, {"ok": False, "error": f"{type(e).__name__}: {e}"})
            return self._json(200, {"ok": True, "before": f"/result/{r.id}/before.png",
                                    "after": f"/result/{r.id}/after.png", "download": r.download_name,
                                    "width": r.size[0], "height": r.size[1]})  # fmt: skip

        def _source(self, q: dict[str, str], slot: Path) -> tuple[Path, str]:
            """The photo to translate: a test image of the dataset (`test` = its id), or the body, written to the
            slot as it arrives (a body over the limit is refused from its length, its bytes read and dropped)."""
            if "test" in q:
                path = app.test_images().get(q["test"])
                if path is None:
                    raise UploadRefused(f"test image {q['test']!r} is not in the dataset's test set")
                return path, path.name
            length, limit = int(self.headers.get("Content-Length") or 0), app.cfg.max_upload_mb * MB
            if length > limit:
                if length <= 4 * limit:  # let the browser finish sending, so it reads the answer
                    _drain(self.rfile, length)
                else:
                    self.close_connection = True
                raise too_large(length, app.cfg)
            source = slot / "input"
            with source.open("wb") as f:
                _drain(self.rfile, length, f)
            return source, q.get("name", "photo")

    return Handler


def _drain(stream, length: int, sink=None) -> None:
    while length > 0:
        chunk = stream.read(min(length, MB))
        if not chunk:
            break
        length -= len(chunk)
        if sink is not None:
            sink.write(chunk)


@dataclass
class AppServer:
    """A running page: its address, and what it serves."""

    url: str
    httpd: ThreadingHTTPServer
    app: App
    thread: threading.Thread

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
        self.app.close()


def start_app(cfg: AppConfig) -> AppServer:
    """Serve the page on 127.0.0.1:cfg.port (0: a free one) in a thread."""
    app = App(cfg)
    try:
        httpd = ThreadingHTTPServer(("127.0.0.1", cfg.port), _handler(app))
    except OSError as e:
        app.close()
        raise AppError(f"port: 127.0.0.1:{cfg.port} is not free ({e.strerror}); give --port N, or --port 0 for "
                       "any free one") from None  # fmt: skip
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True, name="sakura-app")
    thread.start()
    return AppServer(f"http://127.0.0.1:{httpd.server_address[1]}/", httpd, app, thread)


class AppError(RuntimeError, UserError):
    """The page cannot start (its port is taken)."""


def _cmd_app(args: argparse.Namespace) -> int:
    server = start_app(from_args(AppConfig, args))
    print(f"sakura app: {server.url}  (dataset {server.app.dataset_dir}; Ctrl-C stops it)", flush=True)
    if (notice := server.app.no_run_text()) is not None:
        print(notice, file=sys.stderr, flush=True)
    signal.signal(signal.SIGTERM, _stop)  # `kill` ends it as Ctrl-C does: its temporary folder goes with it
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("sakura app: stopped")
        return 0
    finally:
        server.close()


def _stop(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def configure_app(p: argparse.ArgumentParser) -> None:
    """The `app` command's flags: one per AppConfig setting the page does not decide itself."""
    add_arguments(p, AppConfig, skip=NOT_TRANSLATE + ("batch_size",))
    p.set_defaults(func=_cmd_app)


COMMANDS: dict[str, Any] = {"app": configure_app}
