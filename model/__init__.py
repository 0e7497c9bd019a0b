"""Model stage: CycleGAN training on a curated dataset and translation of images."""

from core.lazy import lazy_exports

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
