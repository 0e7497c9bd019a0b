"""Curation stage: raw images -> valid, unique, resized, leakage-free train/test dataset."""

import logging

from core.lazy import lazy_exports

logging.getLogger(__name__).addHandler(logging.NullHandler())  # warnings are in the summary; an app shows the log

__getattr__, __all__ = lazy_exports(
    __name__,
    {
        "Batch": "pipeline",
        "CurationConfig": "config",
        "CurationResult": "pipeline",
        "ReviewSummary": "report",
        "add_excluded": "report",
        "analyse": "pipeline",
        "analyse_batch": "pipeline",
        "curate": "pipeline",
        "review_summary": "report",
    },
)
