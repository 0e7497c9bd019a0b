"""A bare virtualenv that stands in for the GPU image, for `gpu_check.sh --dry`: only what the image brings.

    .venv/bin/python benchmarks/gpu_image_venv.py /tmp/gpu-image      # then:
    GPU_CHECK_PYTHON=/tmp/gpu-image/bin/python benchmarks/gpu_check.sh --dry

The image has python3 with torch, torchvision, numpy, pillow, tqdm, matplotlib and tensorboard (and their
dependencies), and none of what gpu_check.sh carries as wheels. This makes a fresh virtualenv (no system site
packages) and links exactly those distributions, with their dependencies, from this project's venv into it; the
carried packages (pydantic, pytest, hypothesis, ...) are left out, so the dry run shows the wheels are enough.
"""

from __future__ import annotations

import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

IMAGE = ("torch", "torchvision", "numpy", "pillow", "tqdm", "matplotlib", "tensorboard")
CARRIED = {"pydantic", "pydantic-core", "pydantic-settings", "python-dotenv", "pytest", "pytest-timeout", "pluggy",
           "iniconfig", "hypothesis", "attrs", "sortedcontainers", "annotated-types", "typing-inspection",
           "typing-extensions", "pygments", "packaging", "tomli", "exceptiongroup"}  # fmt: skip


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def closure(roots: tuple[str, ...]) -> dict[str, metadata.Distribution]:
    """The installed distributions `roots` need (extras and other platforms' markers left out), less CARRIED."""
    seen: dict[str, metadata.Distribution] = {}
    todo = list(roots)
    while todo:
        name = _norm(todo.pop())
        if name in seen or name in CARRIED:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        seen[name] = dist
        for req in dist.requires or []:
            if "extra ==" in req:
                continue
            spec, _, marker = req.partition(";")
            if marker and 'platform_system == "Windows"' in marker or 'sys_platform == "win32"' in marker:
                continue
            todo.append(re.split(r"[ <>=!~\[(]", spec.strip(), maxsplit=1)[0])
    return seen


def main() -> int:
    target = Path(sys.argv[1]).resolve()
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(target)], check=True)
    site = next(target.glob("lib/python*/site-packages"))
    dists = closure(IMAGE)
    linked = 0
    for dist in dists.values():
        tops = {Path(str(f)).parts[0] for f in dist.files or [] if not str(f).startswith("..")}
        for top in tops:
            src = Path(dist.locate_file(top))
            if src.exists() and not (site / top).exists() and not top.endswith(".pth") and top != "__pycache__":
                (site / top).symlink_to(src)
                linked += 1
    print(f"{target}: {len(dists)} distributions of the GPU image linked ({linked} entries): "
          f"{', '.join(sorted(dists))}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
