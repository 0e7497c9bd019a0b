"""Curation scaled out: `curate` with its local process pool against the curate flow on threads, on a local Dask
cluster the flow starts, and on an existing Dask scheduler (SAKURA_DASK_ADDRESS); the same files, the same dataset.

    .venv/bin/python benchmarks/bench_curation_scaleout.py [--images 2000] [--workers 2] [--rounds 2]

Every run is fresh (earlier outputs and state deleted, untimed), rounds alternate the order, medians are compared.
A temporary Prefect server is started first (prefect_test_harness). The flow's time includes its Prefect task runs
and, for the local cluster, starting the cluster. Checks that every run wrote the same dataset, byte for byte.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import curation_sets as sets  # noqa: E402
import docs_output  # noqa: E402

from curation import CurationConfig, curate  # noqa: E402
from tests.support.curation_images import dataset_files  # noqa: E402


def fresh(root: Path) -> None:
    for d in ("curation", "train", "test"):
        shutil.rmtree(root / d, ignore_errors=True)


def run(side: str, root: Path, workers: int, address: str) -> float:
    """One fresh curation of `root` by `side`; wall seconds."""
    from core.environment import variable
    from flows.curate import curate_flow
    from flows.runners import task_runner

    DASK_ADDRESS_ENV = variable("dask_address")

    fresh(root)
    cfg = CurationConfig(dataset_dir=root, workers=workers)
    t = time.perf_counter()
    if side == "curate":
        curate(cfg)
    elif side == "flow, threads":
        curate_flow.with_options(task_runner=task_runner("threads"))(dataset="bench", curation=cfg, review=None)
    elif side == "flow, local Dask":
        os.environ.pop(DASK_ADDRESS_ENV, None)
        runner = task_runner("dask", dask_workers=workers)
        curate_flow.with_options(task_runner=runner)(dataset="bench", curation=cfg, review=None)
    else:
        os.environ[DASK_ADDRESS_ENV] = address
        try:
            curate_flow.with_options(task_runner=task_runner("dask"))(dataset="bench", curation=cfg, review=None)
        finally:
            os.environ.pop(DASK_ADDRESS_ENV, None)
    return time.perf_counter() - t


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=2, help="decoding processes, threads in flight, Dask workers")
    ap.add_argument("--rounds", type=int, default=2)
    docs_output.add_argument(ap)
    args = ap.parse_args(argv)
    base = Path(tempfile.mkdtemp(prefix="bench-scaleout-"))
    os.environ["PREFECT_HOME"] = str(base / "prefect-home")  # a throwaway Prefect home, never ~/.prefect
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    os.environ.pop("PREFECT_API_URL", None)
    from distributed import LocalCluster
    from prefect.testing.utilities import prefect_test_harness

    try:
        t = time.perf_counter()
        sets.generate(base / "data" / "raw", sets.varied_jobs(args.images), args.workers)
        print(f"generated {args.images} JPEGs in {time.perf_counter() - t:.0f} s")
        with (
            prefect_test_harness(server_startup_timeout=120),
            LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True) as cluster,
        ):
            logging.getLogger("prefect").setLevel(logging.WARNING)
            sides = ["curate", "flow, threads", "flow, local Dask", "flow, Dask scheduler"]
            times: dict[str, list[float]] = {s: [] for s in sides}
            digests = {}
            for r in range(args.rounds):
                for side in sides if r % 2 == 0 else sides[::-1]:
                    times[side].append(run(side, base / "data", args.workers, cluster.scheduler_address))
                    digests[side] = dataset_files(base / "data")
                    print(f"round {r + 1}: {side:<22} {times[side][-1]:6.2f} s (load average {os.getloadavg()[0]:.1f})")
            for side in sides:
                print(f"{side:<22} median {statistics.median(times[side]):6.2f} s of {args.rounds}")
            same = all(d == digests["curate"] for d in digests.values())
            print(f"the same dataset byte for byte ({len(digests['curate'])} files): {same}")
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(docs_output.run(main, __file__))
