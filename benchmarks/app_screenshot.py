"""The screenshot of `sakura app` in the docs: a photo uploaded in headless Chromium and translated, 1280 px wide.

Train a run first (`make demo`, or `sakura train --root DATASET`), then:

    .venv/bin/python benchmarks/app_screenshot.py --root datasets/street2sakura-demo --out docs/images/app.png

The photo is a synthetic street of the demo's kind (`--photo FILE` for your own); it goes through the page's upload
field, as a person's photo does, and the slider is left in the middle.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

WIDTH, HEIGHT = 1280, 900


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, required=True, help="dataset folder with a trained run")
    parser.add_argument("--photo", type=Path, help="photo to upload (default: a synthetic street, 960x640)")
    parser.add_argument("--out", type=Path, default=Path("docs/images/app.png"))
    args = parser.parse_args()

    from sakura.app import AppConfig, start_app
    from sakura.synthetic import street_scene
    from scraper.browser import close_driver, make_driver

    with tempfile.TemporaryDirectory() as tmp:
        photo = args.photo or Path(tmp) / "street.jpg"
        if args.photo is None:
            street_scene("A", seed=4242, size=(960, 640)).save(photo, quality=92)
        server = start_app(AppConfig(dataset_dir=args.root, port=0))
        driver = make_driver(headless=True)
        try:
            driver.set_window_size(WIDTH, HEIGHT)
            driver.get(server.url)
            driver.find_element("id", "file").send_keys(str(photo.resolve()))
            deadline = time.monotonic() + 600
            while not driver.execute_script("return document.getElementById('status').textContent.startsWith('done')"):
                if time.monotonic() > deadline or driver.find_element("id", "status").get_attribute("class") == "err":
                    raise SystemExit(f"no translation: {driver.find_element('id', 'status').text}")
                time.sleep(0.5)
            driver.execute_script("document.body.style.zoom = 1; window.scrollTo(0, 0)")
            args.out.parent.mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(str(args.out))
        finally:
            close_driver(driver)
            server.close()
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
