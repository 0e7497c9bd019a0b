"""The review page (`sakura review <run>`): what it serves and refuses, and in headless Chromium against a real paused
curate run: clicks -> the run resumes -> exactly the clicked images are gone from train/test."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid

import pytest

from curation.records import Decision, Status
from tests.support import curation_images as ci
from tests.support.flows_serve import (
    manifest_rows,
    scrape_demo,
    serve_log_tail,
    wait_for_paused,
    wait_for_state,
)

DATASET = "reviewpage"


def _review(tmp_path, dataset: str = "x<script>alert(1)</script>"):
    from sakura.review import Review, Tile

    path = tmp_path / "a.jpg"
    path.write_bytes(ci.jpeg_bytes(ci.scene(1, (64, 48))))
    evil = Tile("aaaaaaaaaaaa", "</script><img src=x onerror=alert(2)>", path)
    return Review("0" * 8 + "-0000-0000-0000-" + "0" * 12, dataset, {"A train": [evil]},
                  [("g1", "g1 · A · <b>kept</b>", [evil])], {"aaaaaaaaaaaa": path})  # fmt: skip


def test_page_escapes_every_name_and_caption(tmp_path):
    from sakura.review import render

    page = render(_review(tmp_path))
    assert "<script>alert(1)" not in page and "x&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "</script><img" not in page and "<b>kept" not in page  # captions travel as JSON, shown with textContent
    data = page.split('<script id="data" type="application/json">')[1].split("</script>")[0]
    assert json.loads(data)["grids"]["A train"][0][1] == "</script><img src=x onerror=alert(2)>"


def test_decision_takes_only_ids_the_page_shows(tmp_path):
    review = _review(tmp_path)
    assert review.decision({"images": ["aaaaaaaaaaaa"], "groups": ["g1"], "note": "n"}) == {
        "approve": True, "exclude": ["aaaaaaaaaaaa", "g1"], "note": "n"}  # fmt: skip
    with pytest.raises(ValueError, match="not on this page: bbbbbbbbbbbb, g2"):
        review.decision({"images": ["bbbbbbbbbbbb"], "groups": ["g2"]})


def test_server_serves_the_page_and_its_thumbnails_only_and_takes_json_from_itself(tmp_path):
    import contextvars
    import threading
    from http.server import ThreadingHTTPServer

    from sakura.review import _handler

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(_review(tmp_path), threading.Event(), contextvars.Context()))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}"

    def post(body: bytes, kind: str) -> tuple[int, dict]:
        req = urllib.request.Request(url + "/submit", body, {"Content-Type": kind}, method="POST")
        try:
            with urllib.request.urlopen(req) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    try:
        with urllib.request.urlopen(url + "/") as r:
            assert r.headers["Content-Type"].startswith("text/html") and b"x&lt;script&gt;" in r.read()
        with urllib.request.urlopen(url + "/thumb/aaaaaaaaaaaa") as r:
            assert r.headers["Content-Type"] == "image/jpeg" and r.read()[:2] == b"\xff\xd8"
        for path in ("/thumb/bbbbbbbbbbbb", "/thumb/../a.jpg", "/a.jpg", "/thumb/%2e%2e%2fa.jpg"):
            with pytest.raises(urllib.error.HTTPError, match="404"):
                urllib.request.urlopen(url + path)
        assert post(b'{"images": ["aaaaaaaaaaaa"]}', "text/plain")[0] == 403  # a cross-site form could send this
        assert post(b'{"images": ["bbbbbbbbbbbb"]}', "application/json") == (
            400, {"ok": False, "error": "not on this page: bbbbbbbbbbbb"})  # fmt: skip
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_chosen_ids_read_options_bare_ids_and_groups(tmp_path):
    from curation.layout import DatasetLayout
    from flows.review import Curated, chosen_ids, group_label, image_label

    def row(n: int, status: Status, group: str = "") -> Decision:
        return Decision("A", f"{n:02x}" * 32, f"A/{n}.jpg", status, None, "", group, "train")

    rows = (row(1, Status.KEPT, "g1"), row(2, Status.DUPLICATE, "g1"), row(3, Status.KEPT))
    cur = Curated(DatasetLayout(tmp_path), rows)
    assert image_label(rows[0], 2) == "010101010101 · A train · group of 2"
    assert group_label(list(rows[:2])) == "g1 · A · kept 010101010101 · 2 images"
    assert chosen_ids(cur, [image_label(rows[2]), "g1 · A · kept 010101010101 · 2 images", "030303030303", " "]) == [
        "030303030303", "010101010101", "020202020202"]  # fmt: skip
    with pytest.raises(ValueError, match="excluded group: got 'g9'"):
        chosen_ids(cur, ["g9"])


def _outputs(ds) -> set[str]:
    return {str(p.relative_to(ds)) for split in ("train", "test") for p in (ds / split).rglob("*.jpg")}


@pytest.fixture(scope="module")
def scraped(served, demo):
    # 12 a query: the demo's 12th result is a near-duplicate of the 11th (a duplicate group to click)
    return scrape_demo(served, demo, DATASET, per_query_limit=12, per_domain_limit=14)


def _cli(capsys, *argv: str) -> tuple[int, str]:
    from sakura.cli import main

    rc = main(["review", *argv])
    out = capsys.readouterr()
    return rc, (out.out + out.err).strip()


def _click_until(chrome, css: str, timeout_s: float = 20.0):
    from selenium.webdriver.common.by import By

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = chrome.find_elements(By.CSS_SELECTOR, css)
        if found:
            found[0].click()
            return found[0]
        time.sleep(0.2)
    raise AssertionError(f"nothing matches {css}")


@pytest.mark.prefect
@pytest.mark.browser
@pytest.mark.slow
def test_clicks_on_the_review_page_resume_the_run_without_exactly_those_images(served, scraped, chrome, capsys):
    from prefect.deployments import run_deployment as submit
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    from sakura.review import start_review_page

    ds = scraped
    params = {"dataset": DATASET, "review": {"mode": "ui", "timeout_s": 600},
              "curation": {"load_size": 48, "workers": 1, "test_fraction": 0.25}}  # fmt: skip
    run = submit("curate/default", parameters=params, timeout=0)
    assert wait_for_paused(str(run.id), timeout_s=300).id == run.id
    before = _outputs(ds)
    rows = {r["id"][:12]: r for r in manifest_rows(ds)}

    page = start_review_page(str(run.id))
    try:
        assert page.url.startswith("http://127.0.0.1:")
        with pytest.raises(urllib.error.HTTPError, match="404"):  # only the dataset's own thumbnails
            urllib.request.urlopen(page.url + "thumb/..%2F..%2Fetc%2Fpasswd")
        chrome.set_window_size(1280, 1000)
        chrome.get(page.url)
        picked = []
        for _ in range(3):  # one image in each of three grids, paging with the keyboard between them
            tile = _click_until(chrome, ".grid .tile:not(.out)")
            picked.append(tile.get_attribute("data-id"))
            assert "out" in tile.get_attribute("class")
            chrome.find_element(By.TAG_NAME, "body").send_keys(Keys.ARROW_RIGHT)
        _click_until(chrome, "#tabs button[data-name=groups]")
        group = _click_until(chrome, ".group")
        gid = group.get_attribute("data-group")
        assert chrome.find_element(By.ID, "count").text == "excluded: 3 image(s), 1 group(s)"
        chrome.find_element(By.ID, "note").send_keys("clicked in a test")
        chrome.find_element(By.ID, "submit").click()
        deadline = time.monotonic() + 30
        while "resumed" not in chrome.find_element(By.ID, "status").text and time.monotonic() < deadline:
            time.sleep(0.3)
        assert chrome.find_element(By.ID, "status").text == f"resumed {run.id}: 3 image(s) and 1 group(s) excluded"
        assert page.resumed.is_set()
    finally:
        page.close()
    assert wait_for_state(str(run.id), ("Completed",), timeout_s=300) == "Completed", serve_log_tail(served)

    members = [i for i, r in rows.items() if r["group"] == gid]
    gone = {rows[i]["output"] for i in picked + members if rows[i]["output"]}
    assert len(picked) == 3 and len(set(picked)) == 3 and len(members) >= 2 and len(gone) == 4, (picked, members)
    assert _outputs(ds) == before - gone  # exactly those left train/test, nothing else moved
    after = {r["id"][:12]: r for r in manifest_rows(ds)}
    assert {(after[i]["status"], after[i]["reason"]) for i in picked + members} == {("rejected", "excluded")}

    rc, said = _cli(capsys, str(run.id))
    assert rc == 2 and said == f"sakura review: error: flow run {run.id} ({run.name}) is Completed, not Paused: " \
        "nothing to review"  # fmt: skip
    missing = uuid.uuid4()
    assert _cli(capsys, str(missing)) == (2, f"sakura review: error: no flow run {missing} on this Prefect server")
    rc, said = _cli(capsys, "nope")
    assert rc == 2 and said.startswith("sakura review: error: run id: got 'nope'") and "\n" not in said
