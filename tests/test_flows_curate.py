"""The curate deployment's cache follows what curation reads, and the run form shows each stage as one section."""

from __future__ import annotations

import time

import pytest
import requests

from curation.layout import DatasetLayout
from curation.outputs import read_manifest
from curation.records import Status
from tests.support import curation_images as ci
from tests.support.flows_serve import run_deployment, serve_log_tail, task_states

pytestmark = [pytest.mark.prefect, pytest.mark.slow]


def test_a_raw_file_with_an_unusual_suffix_reruns_curation(served):
    ds = served.data_root / "suffix"
    for i in range(6):
        ci.put(ds / "raw", "AB"[i % 2], ci.jpeg_bytes(ci.scene(700 + i, (400, 300))))
    params = {"dataset": "suffix", "curation": {"load_size": 48, "workers": 1}}
    states = []
    for _ in range(2):
        proc, run_id = run_deployment("curate/default", params, timeout_s=300)
        assert proc.returncode == 0, serve_log_tail(served)
        states.append(task_states(run_id)["curate-dataset"])
    assert states == ["Completed", "Cached"]
    odd = ds / "raw" / "A" / "from-a-camera.jfif"  # a JPEG under a name no suffix list expects
    odd.write_bytes(ci.jpeg_bytes(ci.scene(799, (400, 300))))
    proc, run_id = run_deployment("curate/default", params, timeout_s=300)
    assert proc.returncode == 0, serve_log_tail(served)
    assert task_states(run_id)["curate-dataset"] == "Completed"
    (row,) = [r for r in read_manifest(DatasetLayout(ds).manifest) if r.relpath == "A/from-a-camera.jfif"]
    assert row.status == Status.KEPT and (ds / row.output).is_file()


@pytest.mark.browser
def test_run_form_groups_the_settings_of_each_stage(served, chrome, tmp_path):
    deployment = requests.get(f"{served.cfg.api_url}/deployments/name/collect-and-train/default", timeout=10).json()
    schema = deployment["parameter_openapi_schema"]
    sections = ("scrape", "curation", "review", "training", "translation")
    assert set(sections) <= set(schema["properties"])
    for name in sections:  # the form's defaults hold only settings the form may send back
        definition = schema["definitions"][schema["properties"][name]["$ref"].split("/")[-1]]
        assert set(schema["properties"][name]["default"]) <= set(definition["properties"])
    chrome.set_window_size(1400, 2000)
    chrome.get(f"{served.cfg.url}/deployments/deployment/{deployment['id']}/run")
    deadline, text = time.monotonic() + 60, ""
    while time.monotonic() < deadline and "Per Query Limit" not in text:
        time.sleep(0.5)
        text = chrome.execute_script("return document.body.innerText")
    chrome.save_screenshot(str(tmp_path / "run-form.png"))
    for label in ("scrape (Optional)", "curation (Optional)", "training (Optional)", "Per Query Limit", "Threshold"):
        assert label in text, text[:2000]
    assert text.index("Per Query Limit") < text.index("curation (Optional)") < text.index("Threshold")
