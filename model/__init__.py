"""Model stage: CycleGAN training on a curated dataset and translation of images."""
