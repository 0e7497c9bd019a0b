"""Model stage: CycleGAN training on a curated dataset and translation of images."""

import os

from core.lazy import lazy_exports

# Torch's OpenMP threads spin ~300,000 times waiting for work before they sleep: on a shared machine whose cores are
# busy they keep each other from running (training at 0.1 it/s or less beside two busy processes on 2 cores, 0.49 it/s
# at 20,000; idle unchanged, 1.52 -> 1.75 it/s: benchmarks/bench_model.py). Set before torch is first imported, which
# in this project is through this package; a value the user set wins.
os.environ.setdefault("GOMP_SPINCOUNT", "20000")

__getattr__, __all__ = lazy_exports(
    __name__,
    {
        "RunDir": "layout",
        "TrainConfig": "config",
        "TrainResult": "training",
        "TranslateConfig": "translation",
        "TranslateResult": "translation",
        "find_run": "translation",
        "train": "training",
        "translate": "translation",
    },
)
