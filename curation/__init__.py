"""Curation stage: raw images -> valid, unique, resized, leakage-free train/test dataset."""

from curation.config import CurationConfig
from curation.pipeline import CurationResult, curate
from curation.report import ReviewSummary, add_excluded, review_summary

__all__ = ["CurationConfig", "CurationResult", "ReviewSummary", "add_excluded", "curate", "review_summary"]
