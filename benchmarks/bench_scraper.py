"""Benchmark: download + validate + store N ~200 KB JPEGs from loopback, vs a plain sequential requests loop.

    .venv/bin/python benchmarks/bench_scraper.py            # 1,000 images, default ScrapeConfig politeness

The images are served from memory by a separate process on 32 loopback addresses (127.0.0.1-32), so the
default per-host limit (2 at a time per host) applies as it would across the many hosts of a real crawl.
Both sides do the same work per image: fetch, sniff + full decode with Pillow, sha256, write the file;
the scraper also follows its guards (address check, redirects, robots header) and writes manifest rows.
CPU seconds are this process's (all threads), so the server's work is not counted on either side.
"""

from __future__ import annotations

import argparse
import io
import multiprocessing as mp
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import requests
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import docs_output  # noqa: E402

from scraper.config import ScrapeConfig  # noqa: E402
from scraper.fetch import Downloader  # noqa: E402
from scraper.pipeline import download_candidates  # noqa: E402
from scraper.records import Candidate, Counts  # noqa: E402
from scraper.store import Store  # noqa: E402
from scraper.validate import check_image  # noqa: E402


def make_images(n: int, target_kb: int, distinct_pixels: int = 40, seed: int = 0) -> list[bytes]:
    """n JPEGs of about target_kb with distinct bytes: `distinct_pixels` photo-like 1024x768 images (smooth colour
    fields plus grain), each repeated with its index in a JPEG comment segment, so every file has its own sha256
    while decoding costs what a real photo of that size costs (encoding 1,000 real ones would take a minute)."""
    rng = np.random.default_rng(seed)
    w, h = 1024, 768
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    bases, quality = [], 80
    for i in range(min(n, distinct_pixels)):
        a, b, c = rng.uniform(0.002, 0.02, 3)
        base = np.stack([np.sin(xx * a + i), np.cos(yy * b + i), np.sin((xx + yy) * c)], axis=-1) * 90 + 128
        arr = np.clip(base + rng.normal(0, 9, (h, w, 1)), 0, 255).astype(np.uint8)
        buf = io.BytesIO()
        Image.fromarray(arr).save(buf, "JPEG", quality=quality)
        if i < 5:  # tune quality on the first few to land near the target size
            quality = int(np.clip(quality * (target_kb / (buf.tell() / 1024)) ** 0.5, 30, 95))
        bases.append(buf.getvalue())
    out = []
    for i in range(n):
        base, comment = bases[i % len(bases)], f"bench image {i}".encode()
        out.append(base[:2] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment + base[2:])
    return out


def _serve(images: list[bytes], hosts: int, latency: float, port_q: mp.Queue) -> None:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            body = images[int(self.path.rsplit("/", 1)[1].split(".")[0])]
            if latency:
                time.sleep(latency)  # a remote host's time to first byte
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    servers = []
    port = None
    for h in range(1, hosts + 1):
        srv = ThreadingHTTPServer((f"127.0.0.{h}", port or 0), Handler)
        srv.daemon_threads = True
        port = srv.server_address[1]
        servers.append(srv)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    port_q.put(port)
    threading.Event().wait()


def run_scraper(urls: list[str], out: Path, cfg: ScrapeConfig) -> tuple[float, float, dict]:
    cands = [Candidate(u, rank=i, domain="A", query="bench", engine="urls") for i, u in enumerate(urls)]
    store, dl = Store(out, fsync=cfg.fsync), Downloader(cfg)
    t0, c0 = time.perf_counter(), time.process_time()
    statuses = download_candidates(cfg, store, cands, dl, Counts())
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    dl.close()
    store.close()
    return wall, cpu, dict(statuses)


def run_baseline(urls: list[str], out: Path) -> tuple[float, float, int]:
    out.mkdir(parents=True, exist_ok=True)
    ok = 0
    t0, c0 = time.perf_counter(), time.process_time()
    for url in urls:
        r = requests.get(url, timeout=(5, 15))
        checked = check_image(r.content)
        if r.status_code == 200 and checked.reason is None:
            (out / f"{checked.sha256}.{checked.ext}").write_bytes(r.content)
            ok += 1
    return time.perf_counter() - t0, time.process_time() - c0, ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--size-kb", type=int, default=200)
    ap.add_argument("--hosts", type=int, default=32, help="loopback addresses to spread the images over")
    ap.add_argument("--workers", type=int, default=ScrapeConfig.model_fields["workers"].default)
    ap.add_argument("--no-fsync", action="store_true", help="do not fsync each stored file")
    ap.add_argument("--latency-ms", type=float, default=0.0, help="server delay before each answer (remote hosts)")
    docs_output.add_argument(ap)
    args = ap.parse_args()

    t = time.perf_counter()
    images = make_images(args.n, args.size_kb)
    sizes = np.array([len(b) for b in images]) / 1024
    print(f"{args.n} distinct 1024x768 JPEG files, {sizes.mean():.0f} KB mean ({sizes.min():.0f}-{sizes.max():.0f}), "
          f"made in {time.perf_counter() - t:.1f}s")  # fmt: skip
    port_q: mp.Queue = mp.get_context("fork").Queue()
    server = mp.get_context("fork").Process(
        target=_serve, args=(images, args.hosts, args.latency_ms / 1000, port_q), daemon=True
    )
    server.start()
    port = port_q.get(timeout=30)
    urls = [f"http://127.0.0.{1 + i % args.hosts}:{port}/img/{i}.jpg" for i in range(args.n)]
    cfg = ScrapeConfig(allow_private_networks=("127.0.0.0/8",), workers=args.workers, fsync=not args.no_fsync)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-scraper-") as tmp:
            base_wall, base_cpu, base_ok = run_baseline(urls, Path(tmp) / "baseline")
            wall, cpu, statuses = run_scraper(urls, Path(tmp) / "raw", cfg)
    finally:
        server.kill()
    ok = statuses.get("ok", 0)
    print(f"{'':34}{'images/s':>10}{'CPU s/image':>13}{'ok':>7}")
    print(f"{'plain sequential requests loop':34}{base_ok / base_wall:>10.1f}{base_cpu / args.n:>13.4f}{base_ok:>7}")
    label = f"scraper ({cfg.workers} threads, {cfg.per_host_concurrency}/host)"
    print(f"{label:34}{ok / wall:>10.1f}{cpu / args.n:>13.4f}{ok:>7}")
    speedup = (ok / wall) / max(base_ok / base_wall, 1e-9)
    print(f"speed-up {speedup:.2f}x; statuses {statuses}; fsync {'on' if cfg.fsync else 'off'}; "
          f"server latency {args.latency_ms:g} ms")  # fmt: skip
    return 0 if ok == args.n else 1


if __name__ == "__main__":
    sys.exit(docs_output.run(main, __file__))
