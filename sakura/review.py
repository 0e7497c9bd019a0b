"""`sakura review <run>`: a page on 127.0.0.1 to review a paused run's dataset by clicking, and resume that run."""

from __future__ import annotations

import argparse
import contextvars
import html
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from core.errors import UserError

PAGE_SIZE = 48  # thumbnails per page of a grid (4 rows of 12 at 1280 px)
THUMB = 96
ASSETS = Path(__file__).with_name("review_page")


class ReviewError(RuntimeError, UserError):
    """The run cannot be reviewed here (no such run, not paused, not a dataset review); the message says which."""


@dataclass(frozen=True)
class Tile:
    """One image on the page: its short id (what the form takes), caption, and the file its thumbnail is made from."""

    id: str
    caption: str
    path: Path


@dataclass
class Review:
    """What the page shows for one paused run: grids of kept images by domain and split, duplicate groups."""

    run_id: str
    dataset: str
    grids: dict[str, list[Tile]]  # "A train" -> tiles
    groups: list[tuple[str, str, list[Tile]]]  # (group id, label, tiles kept first)
    files: dict[str, Path] = field(default_factory=dict)  # id -> file: the only files the page serves

    @classmethod
    def of(cls, run_id: str, dataset_dir: Path) -> Review:
        from flows.review import (
            ID_CHARS,
            Curated,
            group_label,
            image_file,
            kept_by_place,
            member_caption,
            review_groups,
        )

        cur = Curated.read(dataset_dir)

        def tiles(rows, caption) -> list[Tile]:
            return [Tile(r.sha256[:ID_CHARS], caption(r), p) for r in rows if (p := image_file(cur, r)) is not None]

        grids = {f"{d} {s}": tiles(rows, lambda r: r.sha256[:ID_CHARS]) for (d, s), rows in kept_by_place(cur).items()}
        groups = [(g[0].group, group_label(g), tiles(g, member_caption)) for g in review_groups(cur)]
        review = cls(run_id, cur.name, grids, groups)
        review.files = {t.id: t.path for tiles in grids.values() for t in tiles}
        review.files |= {t.id: t.path for _, _, tiles in groups for t in tiles}
        return review

    def decision(self, body: dict[str, Any]) -> dict[str, Any]:
        """The run input for the paused run from what the page sent; ids it does not show are refused."""
        images, groups = list(body.get("images", [])), list(body.get("groups", []))
        known_groups = {g for g, _, _ in self.groups}
        unknown = [i for i in images if i not in self.files] + [g for g in groups if g not in known_groups]
        if unknown:
            raise ValueError(f"not on this page: {', '.join(map(str, unknown[:5]))}")
        note = str(body.get("note", ""))[:500]
        return {"approve": bool(body.get("approve", True)), "exclude": images + groups, "note": note}


def _check_run(run_id: str) -> Path:
    """The dataset a paused run asks about; ReviewError when the id is bad or the run is not paused for a review."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    from flows.review import REVIEW_REQUEST

    try:
        uuid.UUID(run_id)
    except ValueError:
        raise ReviewError(f"run id: got {run_id!r}; allowed: a flow run id (the UUID `sakura run` printed)") from None
    with get_client(sync_client=True) as client:
        try:
            run = client.read_flow_run(run_id)
        except ObjectNotFound:
            raise ReviewError(f"no flow run {run_id} on this Prefect server") from None
    state = run.state.name if run.state else "Pending"
    if not (run.state and run.state.is_paused()):
        raise ReviewError(f"flow run {run_id} ({run.name}) is {state}, not Paused: nothing to review")
    from prefect.input import read_flow_run_input

    request = read_flow_run_input(REVIEW_REQUEST, flow_run_id=run.id)
    if not request:
        raise ReviewError(f"flow run {run_id} is paused, but not for a dataset review (no {REVIEW_REQUEST!r} input)")
    return Path(request["dataset_dir"])


def _resume(run_id: str, decision: dict[str, Any]) -> None:
    from prefect.flow_runs import resume_flow_run

    resume_flow_run(uuid.UUID(run_id), run_input=decision)


def render(review: Review) -> str:
    """The page's HTML; every name and caption escaped, the data for the script as JSON in a script tag."""
    e = html.escape
    data = {
        "run": review.run_id,
        "pageSize": PAGE_SIZE,
        "grids": {k: [[t.id, t.caption] for t in v] for k, v in review.grids.items()},
        "groups": [[g, label, [[t.id, t.caption] for t in tiles]] for g, label, tiles in review.groups],
    }
    values = {
        "dataset": e(review.dataset),
        "run": e(review.run_id),
        "thumb": str(THUMB),
        "data": json.dumps(data).replace("<", "\\u003c"),  # no `</script>` from any caption
        "script": (ASSETS / "page.js").read_text(encoding="utf-8"),
    }
    template = (ASSETS / "page.html").read_text(encoding="utf-8")
    return re.sub(r"\{\{(\w+)\}\}", lambda m: values[m.group(1)], template)  # one pass: no value is read again


def _handler(review: Review, done: threading.Event, context: contextvars.Context):
    from flows.artifacts import thumbnail_jpeg

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt, *args) -> None:  # quiet: the terminal shows what matters
            pass

        def _send(self, code: int, body: bytes, kind: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store" if kind.startswith("text/html") else "max-age=3600")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()
            self.wfile.write(body)

        def _json(self, code: int, obj: dict) -> None:
            self._send(code, json.dumps(obj).encode(), "application/json")

        def do_GET(self) -> None:
            if self.path == "/":
                self._send(200, render(review).encode(), "text/html; charset=utf-8")
            elif self.path.startswith("/thumb/") and self.path[7:] in review.files:
                self._send(200, thumbnail_jpeg(review.files[self.path[7:]], THUMB), "image/jpeg")
            else:
                self._send(404, b"not found", "text/plain")

        def do_POST(self) -> None:
            if self.path != "/submit":
                return self._send(404, b"not found", "text/plain")
            # Only this page's own script: JSON (a cross-site form cannot send it without a CORS preflight, which this
            # server never grants) to the address it was served from (no DNS rebinding).
            own = f"127.0.0.1:{self.server.server_address[1]}"
            if self.headers.get("Content-Type") != "application/json" or self.headers.get("Host") != own:
                return self._json(403, {"ok": False, "error": "only the review page itself may submit"})
            try:
                body = json.loads(self.rfile.read(min(int(self.headers.get("Content-Length", 0)), 1 << 20)))
                decision = review.decision(body)
            except (ValueError, TypeError, AttributeError) as err:
                return self._json(400, {"ok": False, "error": str(err)})
            try:
                context.copy().run(_resume, review.run_id, decision)  # the caller's Prefect settings, not the defaults
            except Exception as err:  # the run moved on (resumed elsewhere, timed out): say so on the page
                return self._json(409, {"ok": False, "error": f"{type(err).__name__}: {err}"})
            done.set()
            n, g = len(body.get("images", [])), len(body.get("groups", []))
            said = f"{n} image(s) and {g} group(s) excluded" if decision["approve"] else "rejected"
            return self._json(200, {"ok": True, "message": f"resumed {review.run_id}: {said}"})

    return Handler


@dataclass
class ReviewServer:
    """A running review page: its address; `resumed` is set once its Submit resumed the run."""

    url: str
    httpd: ThreadingHTTPServer
    resumed: threading.Event

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def start_review_page(run_id: str, port: int = 0) -> ReviewServer:
    """Check that the run is paused for a dataset review, then serve its page on 127.0.0.1 in a thread."""
    review = Review.of(run_id, _check_run(run_id))
    done = threading.Event()
    httpd = ThreadingHTTPServer(("127.0.0.1", port), _handler(review, done, contextvars.copy_context()))
    threading.Thread(target=httpd.serve_forever, daemon=True, name="review-page").start()
    return ReviewServer(f"http://127.0.0.1:{httpd.server_address[1]}/", httpd, done)


def configure_review(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_id", help="the paused flow run (the id `sakura run` printed)")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    p.set_defaults(func=_cmd_review)


def _cmd_review(args: argparse.Namespace) -> int:
    from sakura.run import _use_api

    _use_api()
    page = start_review_page(args.run_id, args.port)
    print(f"review page for flow run {args.run_id}: {page.url}  (Ctrl-C stops it; it ends once the run resumes)")
    try:
        while not page.resumed.wait(3.0):
            if not _paused(args.run_id):
                print(f"flow run {args.run_id} is no longer paused (resumed elsewhere or timed out); page closed")
                return 0
        time.sleep(1.0)  # the page shows the answer before the server goes
        print(f"resumed flow run {args.run_id}")
    finally:
        page.close()
    return 0


def _paused(run_id: str) -> bool:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        state = client.read_flow_run(run_id).state
    return bool(state and state.is_paused())


COMMANDS = {"review": configure_review}
