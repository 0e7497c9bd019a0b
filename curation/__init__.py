"""Curation stage: raw images -> valid, unique, resized, leakage-free train/test dataset."""
