"""What Prefect's Resume form renders: a paused run with probe fields, opened in headless Chromium at 1280 px.

Measures whether markdown images (data URIs) show in the pause description and in a field's description (inline, or
one a line), whether a table renders there, and what the options of a multi-select of strings read as. Prints
one JSON object; saves a screenshot to --out.

    .venv/bin/python benchmarks/probe_resume_form.py --out /tmp/probe.png
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FLOW = r"""
import sys
from typing import Literal
from prefect import flow, pause_flow_run
from prefect.input import RunInput
from pydantic import Field, create_model

IMG = sys.argv[1]
Probe = create_model(
    "Probe",
    __base__=RunInput,
    pick=(list[Literal["aaaaaaaaaaaa · A train · kept", "bbbbbbbbbbbb · B test · kept"]],
          Field(default_factory=list, description=f"field description image: ![f]({IMG})")),
    flag=(bool, Field(False, description=f"a boolean's description image: ![b]({IMG})")),
    inline=(bool, Field(False, description="inline run:\n\n"
                        + " ".join(f"![i{n}]({IMG}) `aaaaaaaaaaa{n}`" for n in range(7))
                        + "<br>**g1** (3): " + " ".join(f"![g{n}]({IMG}) `bbbbbbbbbbb{n} 3 bits`" for n in range(3))
                        + "\n\n| t | t |\n|---|---|\n| table | cell |")),
)

@flow(name="probe")
def probe():
    pause_flow_run(wait_for_input=Probe.with_initial_data(description=f"pause description image: ![d]({IMG})"),
                   timeout=600)

probe()
"""

MEASURE = """
const modal = document.querySelector('.p-modal') || document.body;
const imgs = Array.from(modal.querySelectorAll('img')).map(i => ({alt: i.alt, w: i.naturalWidth,
    inField: !!i.closest('.schema-form-input__description')}));
return {imgs, text: modal.innerText.slice(0, 1500)};
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("probe_resume_form.png"))
    args = ap.parse_args()
    from sakura import server
    from tests.support.net import free_port

    home = Path(tempfile.mkdtemp(prefix="probe-prefect-"))
    cfg = server.ServerConfig(home=home, port=free_port())
    os.environ.update(cfg.env())
    server.start(cfg)
    from PIL import Image

    from flows.artifacts import data_uri

    png = home / "red.png"
    Image.new("RGB", (64, 48), (200, 30, 30)).save(png)
    script = home / "probe_flow.py"
    script.write_text(FLOW)
    proc = subprocess.Popen([sys.executable, str(script), data_uri(png, 64)], env=os.environ)
    try:
        from prefect.client.orchestration import get_client
        from selenium.webdriver.common.by import By

        from tests.support.browser import headless_chrome

        run_id = None
        with get_client(sync_client=True) as client:
            for _ in range(240):
                runs = client.read_flow_runs()
                paused = [r for r in runs if r.state and r.state.is_paused()]
                if paused:
                    run_id = str(paused[0].id)
                    break
                time.sleep(0.5)
        assert run_id, "the probe flow did not pause"
        with headless_chrome() as chrome:
            chrome.set_window_size(1280, 1000)
            chrome.get(f"{cfg.url}/runs/flow-run/{run_id}")
            for _ in range(60):
                buttons = [b for b in chrome.find_elements(By.TAG_NAME, "button") if b.text.strip() == "Resume"]
                if buttons:
                    buttons[0].click()
                    break
                time.sleep(0.5)
            time.sleep(3)
            for el in chrome.find_elements(By.CSS_SELECTOR, ".p-modal .p-select, .p-modal .p-combobox"):
                el.click()  # open the multi-select: its option labels
                time.sleep(1)
                break
            found = chrome.execute_script(MEASURE)
            found["options"] = [o.text for o in chrome.find_elements(By.CSS_SELECTOR, ".p-modal label")]
            chrome.save_screenshot(str(args.out))
        print(json.dumps(found, indent=1, ensure_ascii=False))
    finally:
        proc.kill()
        server.stop(cfg)


if __name__ == "__main__":
    main()
