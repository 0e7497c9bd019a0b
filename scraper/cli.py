"""`sakura scrape`: collect images for the dataset's domains with a live progress bar and a status summary."""

from __future__ import annotations

import argparse
import logging
import sys
import unicodedata

from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from core.config import DOMAIN_KEYS, Query, load_domains
from core.settings import add_arguments, add_domains_argument, from_args
from scraper.browser import BrowserError
from scraper.config import ScrapeConfig
from scraper.layers import layer_text
from scraper.layout import RawLayout
from scraper.pipeline import scrape
from scraper.records import Counts, ScrapeResult
from scraper.report import query_row, shortfall


def configure(p: argparse.ArgumentParser) -> None:
    """The `scrape` command's flags: its sources, then one flag per ScrapeConfig setting."""
    p.description = (
        "Search each query, download the originals, store them under <data root>/<name>/raw/<A|B>/ with a manifest. "
        "Rerunning continues where it stopped. Exit 1 only when nothing could be collected."
    )
    add_domains_argument(p)
    p.add_argument("--domain", choices=DOMAIN_KEYS, action="append", help="only this domain (repeatable)")
    p.add_argument("--query", action="append", help="search this instead of the domains file's queries (repeatable)")
    p.add_argument("--urls", metavar="FILE", help="download the URLs in FILE (one a line) instead of searching")
    p.add_argument("--import-dir", metavar="DIR", help="import your own photos from DIR instead of searching")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("-v", "--verbose", action="store_true", help="log which driver is used and each search")
    add_arguments(p.add_argument_group("settings"), ScrapeConfig, skip=("dataset",))  # the domains file names it
    p.set_defaults(func=run)


COMMANDS = {"scrape": configure}


class _Bar:
    """A tqdm bar whose total grows with the candidates found; postfix shows found / downloaded / failed."""

    def __init__(self, enabled: bool) -> None:

        self.bar = tqdm(total=0, unit="img", desc="scrape", disable=not enabled, dynamic_ncols=True)

    def __call__(self, c: Counts) -> None:
        self.bar.total = max(self.bar.total or 0, c.found - c.skipped)
        self.bar.n = c.done
        self.bar.set_postfix(found=c.found, downloaded=c.downloaded, failed=c.failed, dup=c.duplicate, refresh=False)
        self.bar.refresh()

    def close(self) -> None:
        self.bar.close()


TABLE = ("domain", "engine", "query", "search", "layer", "asked", "found", "downloaded", "held", "failed", "stop",
         "shortfall")  # fmt: skip


def summary_table(result: ScrapeResult) -> str:
    """A plain-text table: one row per search (every one), with asked / found / stored, why it stopped and any
    shortfall reason (the last column, so long reasons do not push the others apart); then the download statuses."""
    rows = [list(TABLE)]
    for q in result.queries:
        row = query_row(q)
        row["engine"] = f"{q.engine} (for {q.fallback_from})" if q.fallback_from else q.engine
        row["query"] = q.query[:40]
        row["layer"] = layer_text(q.layer_counts, ",", ":") or row["layer"]  # how many each layer found: json:20
        rows.append([str(row[k]) for k in TABLE])
    total = [sum(query_row(q)[k] for q in result.queries) for k in ("asked", "found", "downloaded", "held", "failed")]
    rows.append(["all", "", "", "", "", *map(str, total), "", ""])
    widths = [max(_width(r[i]) for r in rows) for i in range(len(TABLE))]
    lines = [
        "  ".join(cell + " " * (w - _width(cell)) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows
    ]
    statuses = ", ".join(f"{s} {n}" for s, n in sorted(result.statuses.items())) or "none"
    return "\n".join([*lines, f"download statuses this run: {statuses}"])


def _width(text: str) -> int:
    """Columns a string takes in a terminal: wide (Hangul, CJK) characters count twice."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def run(args: argparse.Namespace) -> int:
    """Entry of `sakura scrape`; 0 when the domains hold images afterwards, 1 when nothing could be collected."""
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    logging.getLogger("scraper.browser").setLevel(logging.INFO)  # always say which chromedriver was used
    cfg = from_args(ScrapeConfig, args)
    spec = load_domains(args.domains)
    queries = [Query(text=q) for q in args.query] if args.query else None
    bar = _Bar(not args.no_progress)
    try:
        with logging_redirect_tqdm():  # warnings (shortfalls, a block, per-URL errors) above the live bar
            result = scrape(
                cfg, spec, args.domain, queries, urls_file=args.urls, import_dir=args.import_dir, progress=bar
            )
    except BrowserError as e:
        bar.close()
        print(f"sakura scrape: error: {e}", file=sys.stderr)
        return 2
    bar.close()
    print(summary_table(result))
    short = sum(1 for q in result.queries if shortfall(q))
    if short:
        print(f"{short} of {len(result.queries)} searches fell short; the reasons are in the last column")
    held = ", ".join(f"{k}: {n}" for k, n in result.stored_per_domain.items())
    print(f"images held now ({held}) in {RawLayout.of(result.dataset_dir).root}; manifest {result.manifest}")
    if result.collected == 0:
        print("sakura scrape: nothing could be collected", file=sys.stderr)
        return 1
    return 0
