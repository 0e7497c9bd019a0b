"""The `sakura` command: one entry point whose subcommands are the pipeline's stages."""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback
from collections.abc import Iterable, Sequence

from core.config import UserError, load_domains
from core.settings import add_domains_argument
from sakura import server

# Stage commands: the module whose COMMANDS[name](parser) adds their flags, and the line `sakura --help` shows
# (written here only). A module is imported only when one of its commands runs (torch and prefect take seconds).
STAGE_COMMANDS: dict[str, tuple[str, str]] = {
    "scrape": ("scraper.cli", "collect images: Google/Bing Images in Chromium, a URL list, or your own photos"),
    "curate": ("curation.cli", "validate, deduplicate, resize and split raw images into train/test"),
    "train": ("model.cli", "train a CycleGAN on a curated dataset (CPU or CUDA; torchrun for DDP)"),
    "translate": ("model.cli", "translate the test set both ways, or your own images/folders"),
    "serve": ("sakura.run", "serve the Prefect deployments (collect-and-train, scrape, ...)"),
    "run": ("sakura.run", "start server + deployments and run collect-and-train (make run / demo)"),
    "resume": ("sakura.run", "resume a run paused for review: approve, or leave images out"),
    "app": ("sakura.app", "a page on 127.0.0.1 to try a photo: before and after on a slider, with a trained run"),
    "review": ("sakura.review", "a page on 127.0.0.1 to review a paused run: click images to leave out, submit"),
    "demo-source": ("sakura.run", "serve the offline demo image source, for deployment runs without internet"),
    "results-storage": ("flows.results", "save the Prefect result storage block in the s3:// data root"),
}


def _cmd_server(args: argparse.Namespace) -> int:
    cfg = server.ServerConfig.from_env()
    if args.action == "start":
        rec, reused = server.start(cfg)
        state = "already running, reusing it" if reused else "started"
        print(f"Prefect server {state} (pid {rec.pid}, data in {cfg.home})")
        print(f"UI:  {cfg.url}")
        print(f"API: {cfg.api_url}   (export PREFECT_API_URL={cfg.api_url} to use it from other shells)")
        return 0
    if args.action == "stop":
        served = server.stop_serve(cfg)
        if served:
            print(f"stopped `sakura serve` (pid {served.pid})")
        rec = server.stop(cfg)
        print(
            f"stopped the Prefect server (pid {rec.pid}, port {rec.port})"
            if rec
            else f"no Prefect server started by sakura is running (no live record in {cfg.record_file()})"
        )
        return 0
    rec = server.read_record(cfg)
    if rec and server.is_healthy(f"http://{cfg.host}:{rec.port}/api"):
        print(f"running: pid {rec.pid}, UI http://{cfg.host}:{rec.port}")
        return 0
    print("not running" if rec is None else f"process {rec.pid} is alive but the API does not answer yet")
    return 1


def _cmd_config(args: argparse.Namespace) -> int:
    spec = load_domains(args.domains)
    print(f"dataset: {spec.name}   (from {args.domains})")
    for d in spec.domains.values():
        print(f"  {d.key} = {d.label}")
        for q in d.queries:
            print(f"      {q.text!r}  (hl={q.hl})")
    return 0


def build_parser(load: Iterable[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser with every subcommand; stage modules are imported for the commands in `load` (all)."""
    parser = argparse.ArgumentParser(
        prog="sakura",
        description="Street photos -> cherry-blossom streets (CycleGAN).",
        epilog="--debug (anywhere on the line) shows the traceback of an error too.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("server", help="start, stop or check the local Prefect server (127.0.0.1)")
    p.add_argument("action", choices=("start", "stop", "status"))
    p.set_defaults(func=_cmd_server)

    p = sub.add_parser("config", help="validate the domains file and show the dataset and queries")
    add_domains_argument(p)
    p.set_defaults(func=_cmd_config)

    for name, (module, help_) in STAGE_COMMANDS.items():
        p = sub.add_parser(name, help=help_, description=help_)
        if load is None or name in load:
            importlib.import_module(module).COMMANDS[name](p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI. An error the user can fix (UserError: bad settings or input, a missing browser, a busy port) or
    an OS error about a file prints one line and exits 2; anything else is a bug: its traceback, exit 1. `--debug`
    shows the traceback always."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    command = next((a for a in argv if not a.startswith("-")), None)
    try:
        args = build_parser(load=[command] if command in STAGE_COMMANDS else []).parse_args(argv)
        return args.func(args)
    except (UserError, OSError) as e:  # a bad SAKURA_* variable already while building the parser's defaults
        if debug:
            traceback.print_exc()
        print(f"sakura {command}: error: {_one_line(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"sakura {command}: interrupted", file=sys.stderr)
        return 130


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split()) or type(e).__name__
    return text if isinstance(e, UserError) else f"{type(e).__name__}: {text}"


if __name__ == "__main__":
    sys.exit(main())
