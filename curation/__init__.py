"""Curation stage: raw images -> valid, unique, resized, leakage-free train/test dataset."""

import logging

from curation.config import CurationConfig
from curation.pipeline import Batch, CurationResult, analyse, analyse_batch, curate
from curation.report import ReviewSummary, add_excluded, review_summary

logging.getLogger(__name__).addHandler(logging.NullHandler())  # warnings are in the summary; an app shows the log

__all__ = [
    "Batch",
    "CurationConfig",
    "CurationResult",
    "ReviewSummary",
    "add_excluded",
    "analyse",
    "analyse_batch",
    "curate",
    "review_summary",
]
