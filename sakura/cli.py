"""The `sakura` command: one entry point whose subcommands are the pipeline's stages."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from sakura import server
from sakura.config import ConfigError, load_domains
from sakura.paths import default_domains_file

# Stage packages that provide a `cli.register(subparsers)`; each is added here when it is built.
STAGE_COMMANDS: tuple[str, ...] = ("scraper.cli", "curation.cli", "model.cli", "flows.cli")


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
            else f"no Prefect server started by sakura is running (no live record in {cfg.pidfile})"
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
    for d in spec.domains:
        print(f"  {d.key} = {d.label}")
        for q in d.queries:
            print(f"      {q.text!r}  (hl={q.hl})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand that exists."""
    parser = argparse.ArgumentParser(prog="sakura", description="Street photos -> cherry-blossom streets (CycleGAN).")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("server", help="start, stop or check the local Prefect server (127.0.0.1)")
    p.add_argument("action", choices=("start", "stop", "status"))
    p.set_defaults(func=_cmd_server)

    p = sub.add_parser("config", help="validate the domains file and show the dataset and queries")
    p.add_argument("--domains", default=default_domains_file(), help="domains file (default: %(default)s)")
    p.set_defaults(func=_cmd_config)

    for module in STAGE_COMMANDS:
        importlib.import_module(module).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; configuration and server errors print one clear line and exit 2."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ConfigError, server.ServerError) as e:
        print(f"sakura {args.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
