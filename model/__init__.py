"""Model stage: CycleGAN training on a curated dataset and translation of images."""

import os

# Torch's OpenMP threads spin ~300,000 times waiting for work before they sleep: on a shared machine whose cores are
# busy they keep each other from running (training at 0.1 it/s or less beside two busy processes on 2 cores, 0.49 it/s
# at 20,000; idle unchanged, 1.52 -> 1.75 it/s: benchmarks/bench_model.py). Set before torch is first imported, which
# in this project is through this package; a value the user set wins.
os.environ.setdefault("GOMP_SPINCOUNT", "20000")

from model.config import TrainConfig
from model.layout import RunDir
from model.training import TrainResult, train
from model.translation import TranslateConfig, TranslateResult, find_run, translate

__all__ = [
    "RunDir",
    "TrainConfig",
    "TrainResult",
    "TranslateConfig",
    "TranslateResult",
    "find_run",
    "train",
    "translate",
]
