"""Review in the Prefect UI: the review pages; a curate run in review mode `ui` pauses, shows thumbnails, resumes
with an exclusion."""

from __future__ import annotations

import re
import time

import pytest

from curation.records import Decision, Reason, Status
from tests.support import curation_images as ci
from tests.support.flows_serve import (
    manifest_rows,
    run_deployment,
    scrape_demo,
    serve_log_tail,
    task_states,
    wait_for_paused,
    wait_for_state,
)

DATASET = "review"


def test_domain_markdown_shows_each_duplicate_group_kept_first(tmp_path):
    from curation.layout import DatasetLayout
    from flows.review import Curated, domain_markdown

    def row(n: int, status: Status, reason: Reason | None = None, group: str = "", domain: str = "A") -> Decision:
        sha = f"{n:02x}" * 32
        output = f"train/{domain}/{sha[:16]}.jpg" if status is Status.KEPT else ""
        path = tmp_path / (output or f"raw/{domain}/{n}.jpg")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(ci.jpeg_bytes(ci.scene(n, (64, 48))))
        return Decision(domain, sha, f"{domain}/{n}.jpg", status, reason, "x", group, "train", output)

    rows = [
        row(5, Status.DUPLICATE, Reason.NEAR_DUPLICATE, "g1"), row(4, Status.KEPT, group="g1"),
        row(3, Status.REJECTED, Reason.EXCLUDED, "g1"), row(2, Status.DUPLICATE, Reason.EXACT_DUPLICATE, "g1"),
        row(9, Status.DUPLICATE, Reason.NEAR_DUPLICATE, "g2"), row(8, Status.KEPT, group="g2"),
        row(7, Status.KEPT, group="g3"), row(6, Status.REJECTED, Reason.EXCLUDED, "g3"),  # no duplicate: not shown
        row(1, Status.KEPT, group="g2", domain="B"), row(10, Status.REJECTED, Reason.TRUNCATED),
    ]  # fmt: skip
    cur = Curated(DatasetLayout(tmp_path), tuple(rows))
    md = domain_markdown(cur, "A", {"A": {"train": 4, "test": 0}}, pages=["review-x-a-train-1"])
    section = md.split("## Duplicate groups (2)")[1].split("## Rejected")[0]
    group_rows = [line for line in section.splitlines() if line.startswith("| `g")]
    assert [line.split("`")[1] for line in group_rows] == ["g1", "g2"]  # one group a row, largest first
    captions = [re.findall(r"`([0-9a-f]{12}) (\w+)`", line) for line in group_rows]
    assert [[(int(i[:2], 16), c) for i, c in row] for row in captions] == [
        [(4, "kept"), (2, "exact_duplicate"), (5, "near_duplicate")], [(8, "kept"), (9, "near_duplicate")]
    ]  # fmt: skip
    assert "(4 +1 more)" in group_rows[0] and "`review-x-a-train-1`" in md
    assert "Not drawable:" in md and "truncated: x" in md


@pytest.fixture(scope="module")
def raw_images(served, demo):
    return scrape_demo(served, demo, DATASET, per_query_limit=6, per_domain_limit=10)


_OVERFLOW = "return Array.from(document.querySelectorAll('table')).filter(t => t.scrollWidth > t.parentElement.clientWidth + 1).map(t => t.scrollWidth)"  # noqa: E501


def _artifact_keys(prefix: str) -> list[str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(like_=prefix)))
    return sorted({a.key for a in found if a.key})


def _artifact_id(key: str) -> str:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])))
    assert found, f"no artifact {key}"
    return str(found[0].id)


def _loaded_images(chrome, url: str, expect: int, timeout_s: float = 60.0) -> list[int]:
    """naturalWidth of every <img> in the page once at least `expect` have finished loading (1280 px window)."""
    chrome.set_window_size(1280, 1000)
    chrome.get(url)
    deadline, widths = time.monotonic() + timeout_s, []
    while time.monotonic() < deadline:
        widths = chrome.execute_script(
            "return Array.from(document.querySelectorAll('img[src^=\"data:image\"]'))"
            ".map(i => i.complete ? i.naturalWidth : -1)"
        )
        if len(widths) >= expect and all(w >= 0 for w in widths):
            return widths
        time.sleep(0.5)
    return widths


def _form_options(run_id: str) -> dict[str, list[str]]:
    """The options of each multi-select in a paused run's Resume form (from the schema the run stored)."""
    from prefect.client.orchestration import get_client
    from prefect.input import read_flow_run_input

    with get_client(sync_client=True) as client:
        keyset = client.read_flow_run(run_id).state.state_details.run_input_keyset
    schema = read_flow_run_input(keyset["schema"], flow_run_id=run_id)
    props = schema["properties"]
    return {k: v["items"].get("enum", []) for k, v in props.items() if v.get("type") == "array" and "items" in v}


_FORM_IMAGES = """
const modal = document.querySelector('.p-modal');
if (!modal) return null;
const imgs = Array.from(modal.querySelectorAll('img'));
if (!imgs.every(i => i.complete)) return null;
return imgs.filter(i => i.naturalWidth > 0).map(i => i.alt);
"""


def _resume_form_images(chrome, url: str, timeout_s: float = 60.0) -> list[str]:
    """Open the run page, click Resume: the alt text (the caption) of each image drawn in the form."""
    from selenium.webdriver.common.by import By

    chrome.set_window_size(1280, 1000)
    chrome.get(url)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        buttons = [b for b in chrome.find_elements(By.TAG_NAME, "button") if b.text.strip() == "Resume"]
        if buttons:
            buttons[0].click()
            break
        time.sleep(0.5)
    while time.monotonic() < deadline:
        found = chrome.execute_script(_FORM_IMAGES)
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError("the Resume form did not show its images")


@pytest.mark.prefect
@pytest.mark.browser
@pytest.mark.slow
def test_review_pauses_shows_thumbnails_and_honours_exclusions(served, raw_images, chrome):
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment as submit
    from prefect.flow_runs import resume_flow_run

    from sakura.watch import Watcher

    params = {
        "dataset": DATASET,
        "review": {"mode": "ui", "timeout_s": 600},
        "curation": {"load_size": 48, "workers": 1, "test_fraction": 0.25},
    }
    run = submit("curate/default", parameters=params, timeout=0)
    paused = wait_for_paused(str(run.id), timeout_s=300)
    assert paused.id == run.id  # the run the user started is the one that pauses, not a nested subflow
    # its state says how to review and resume (`prefect flow-run inspect`, the UI)
    assert f"sakura review {run.id}" in paused.state.message and f"sakura resume {run.id}" in paused.state.message
    lines: list[str] = []
    with get_client(sync_client=True) as client:
        Watcher(str(run.id), served.cfg.url, out=lines.append).poll(client)
    assert f"paused for review: {served.cfg.url}/runs/flow-run/{run.id}" in "\n".join(lines), lines

    ds = raw_images
    kept = [r for r in manifest_rows(ds) if r["status"] == "kept" and r["domain"] == "A"]
    assert kept
    pages = [k for k in _artifact_keys(f"review-{DATASET}-a-") if k.split("-")[-2] in ("train", "test")]
    shown = 0
    for key in pages:  # every kept image is on a page, and the pages fit a 1280 px window
        widths = _loaded_images(chrome, f"{served.cfg.url}/artifacts/artifact/{_artifact_id(key)}", 1)
        assert widths and all(w > 0 for w in widths), widths
        shown += len(widths)
        assert chrome.execute_script(_OVERFLOW) == [], key
    assert shown == len(kept)

    victim = kept[0]
    options = _form_options(str(run.id))
    label = next(o for o in options["exclude_images"] if o.startswith(victim["id"][:12]))
    assert label.startswith(f"{victim['id'][:12]} · A {victim['split']}"), label  # the option says where it is
    assert all(" images" in o and " · kept " in o for o in options["exclude_groups"])
    pictures = _resume_form_images(chrome, f"{served.cfg.url}/runs/flow-run/{run.id}")
    drawn = {i for alt in pictures for i in alt.split()}  # a strip's alt text lists the ids drawn in it
    assert {r["id"][:12] for r in kept} <= drawn, pictures  # each kept image is drawn in the Resume form itself
    resume_flow_run(run.id, run_input={"approve": True, "exclude_images": [label], "note": "a test"})
    assert wait_for_state(str(run.id), ("Completed",), timeout_s=300) == "Completed", serve_log_tail(served)

    row = next(r for r in manifest_rows(ds) if r["id"] == victim["id"])
    assert (row["status"], row["reason"]) == ("rejected", "excluded")
    assert not (ds / victim["output"]).exists()
    assert victim["id"][:12] in (ds / "curation" / "excluded.txt").read_text()

    # A later run (no review) still leaves it out, and does not ask again for the approved dataset.
    proc, later = run_deployment("curate/default", params, timeout_s=300)
    assert proc.returncode == 0, serve_log_tail(served)
    assert task_states(later)["curate-dataset"] == "Cached"
    row = next(r for r in manifest_rows(ds) if r["id"] == victim["id"])
    assert row["reason"] == "excluded"
    outputs = {p.name for split in ("train", "test") for p in (ds / split / "A").iterdir()}
    assert victim["output"].split("/")[-1] not in outputs
