"""Screenshots of both review surfaces of a paused run, 1280 px wide: Prefect's Resume form, `sakura review`'s page.

Start a paused run first (`.venv/bin/sakura run --demo -p review.mode=ui`), then:

    .venv/bin/python benchmarks/review_screenshots.py RUN_ID --ui http://127.0.0.1:4200 --out docs

Clicks nothing that changes the run: the page's exclusions are only marked, never submitted.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

WIDTH = 1280


def _wait(chrome, script: str, timeout_s: float = 60.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = chrome.execute_script(script)
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for: {script[:80]}")


IMAGES_LOADED = (
    "const i = Array.from(document.querySelectorAll('{sel} img')); return i.length && i.every(x => x.complete)"
)


def resume_form(chrome, ui: str, run_id: str, out: Path) -> None:
    """The run page with its Resume dialog open: at the top, and scrolled to the duplicate groups."""
    from selenium.webdriver.common.by import By

    chrome.set_window_size(WIDTH, 1400)
    chrome.get(f"{ui}/runs/flow-run/{run_id}")
    _wait(chrome, "return Array.from(document.querySelectorAll('button')).some(b => b.textContent.trim() == 'Resume')")
    next(b for b in chrome.find_elements(By.TAG_NAME, "button") if b.text.strip() == "Resume").click()
    _wait(chrome, IMAGES_LOADED.format(sel=".p-modal"))
    chrome.save_screenshot(str(out / "review_prefect_form.png"))
    selects = chrome.find_elements(By.CSS_SELECTOR, ".p-modal .schema-form-property-array")
    if selects:  # the images' multi-select under its thumbnails: its options as labelled
        chrome.execute_script("arguments[0].scrollIntoView({block: 'center'})", selects[0])
        selects[0].click()  # opens its list
        time.sleep(1)
        chrome.save_screenshot(str(out / "review_prefect_form_options.png"))
        selects[0].click()
    groups = chrome.find_elements(By.XPATH, "//*[contains(text(), 'Duplicate groups to leave out')]")
    if groups:
        chrome.execute_script("arguments[0].scrollIntoView({block: 'start'})", groups[0])
        time.sleep(0.5)
        chrome.save_screenshot(str(out / "review_prefect_form_groups.png"))


def review_page(chrome, run_id: str, out: Path) -> None:
    """`sakura review`'s page: a grid with two images marked, then the duplicate groups with one marked."""
    from selenium.webdriver.common.by import By

    from sakura.review import start_review_page

    page = start_review_page(run_id)
    try:
        chrome.set_window_size(WIDTH, 1000)
        chrome.get(page.url)
        _wait(chrome, IMAGES_LOADED.format(sel=".grid"))
        for tile in chrome.find_elements(By.CSS_SELECTOR, ".grid .tile")[1:4:2]:
            tile.click()
        chrome.save_screenshot(str(out / "review_page.png"))
        tabs = chrome.find_elements(By.CSS_SELECTOR, "#tabs button[data-name=groups]")
        if tabs:
            tabs[0].click()
            _wait(chrome, IMAGES_LOADED.format(sel=".group"))
            chrome.find_elements(By.CSS_SELECTOR, ".group")[0].click()
            chrome.save_screenshot(str(out / "review_page_groups.png"))
    finally:
        page.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_id")
    ap.add_argument("--ui", default="http://127.0.0.1:4200", help="the Prefect UI (default: %(default)s)")
    ap.add_argument("--out", type=Path, default=Path("docs"))
    args = ap.parse_args()
    os.environ.setdefault("PREFECT_API_URL", args.ui.rstrip("/") + "/api")  # before anything imports prefect
    from tests.support.browser import headless_chrome

    args.out.mkdir(parents=True, exist_ok=True)
    with headless_chrome() as chrome:
        resume_form(chrome, args.ui.rstrip("/"), args.run_id, args.out)
        review_page(chrome, args.run_id, args.out)
    print("\n".join(str(p) for p in sorted(args.out.glob("review_*.png"))))


if __name__ == "__main__":
    main()
