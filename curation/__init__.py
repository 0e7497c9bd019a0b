"""Curation stage: raw images -> valid, unique, resized, leakage-free train/test dataset."""

from core.lazy import lazy_exports

__getattr__, __all__ = lazy_exports(
    __name__,
    {
        "CurationConfig": "config",
        "CurationResult": "pipeline",
        "ReviewSummary": "report",
        "add_excluded": "report",
        "curate": "pipeline",
        "review_summary": "report",
    },
)
