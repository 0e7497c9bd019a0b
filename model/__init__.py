"""Model stage: CycleGAN training on a curated dataset and translation of images."""

from model.config import TrainConfig
from model.training import TrainResult, train
from model.translate import TranslateConfig, TranslateResult, translate

__all__ = ["TrainConfig", "TrainResult", "TranslateConfig", "TranslateResult", "train", "translate"]
