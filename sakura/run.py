"""`sakura serve` (serve the deployments) and `sakura run` (what `make run` / `make demo` do)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from core.config import ConfigError, load_domains
from core.paths import dataset_dir
from core.settings import add_domains_argument
from curation.layout import DatasetLayout
from model.layout import RunDir
from sakura import server

PIPELINE = "collect-and-train/default"
# Small enough to watch the whole pipeline on a CPU in a few minutes.
DEMO_PARAMS = {
    "scrape": {
        "per_query_limit": 40,
        "per_domain_limit": 100,
        "allow_private_networks": ["127.0.0.1/32"],
        "max_preview_clicks": 0,
        "scroll_pause": 0.2,
    },
    # 180 steps turn the synthetic streets pink; the domain score once, at the end (each epoch's costs ~40 s on 2 cores)
    "training": {"epochs": 3, "decay_epoch": 2, "max_iters_per_epoch": 60, "eval_every": 0},
}


def configure_serve(p: argparse.ArgumentParser) -> None:
    p.add_argument("--name", default="default", help="deployment name (default: %(default)s)")
    p.set_defaults(func=_cmd_serve)


def configure_run(p: argparse.ArgumentParser) -> None:
    p.add_argument("--demo", action="store_true", help="use a local synthetic image source instead of the web")
    add_domains_argument(p)
    p.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="KEY=JSON",
        help="a flow parameter; KEY may name one setting of a section, e.g. training.epochs=5 or scrape.engine=bing",
    )
    p.add_argument("--no-watch", action="store_true", help="start the run and return without waiting")
    p.set_defaults(func=_cmd_run)


def configure_resume(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_id", help="the paused flow run (the id `sakura run` printed)")
    p.add_argument("--exclude", action="append", default=[], metavar="ID", help="an image id to leave out (repeatable)")
    p.add_argument("--group", action="append", default=[], metavar="GROUP", help="a duplicate group to leave out")
    p.add_argument("--reject", action="store_true", help="do not approve: the run fails with your note")
    p.add_argument("--note", default="", help="why (kept with the exclusions)")
    p.set_defaults(func=_cmd_resume)


def configure_demo_source(p: argparse.ArgumentParser) -> None:
    add_domains_argument(p)
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    p.set_defaults(func=_cmd_demo_source)


COMMANDS = {
    "serve": configure_serve,
    "run": configure_run,
    "resume": configure_resume,
    "demo-source": configure_demo_source,
}


def _use_api() -> str:
    """Point this process's Prefect client at PREFECT_API_URL, else sakura's local server (which must be running).
    Set before anything imports prefect: its settings are read once."""
    url = os.environ.setdefault("PREFECT_API_URL", server.ServerConfig.from_env().api_url)
    if not server.is_healthy(url):
        raise ConfigError(f"PREFECT_API_URL: no Prefect server answers at {url}; start one with `make server`")
    return url


def _cmd_serve(args: argparse.Namespace) -> int:
    _use_api()
    from flows.deploy import serve_deployments

    serve_deployments(args.name)
    return 0


def _wait_for_deployment(cfg: server.ServerConfig, name: str, since: float, timeout_s: float = 180.0) -> None:
    """Wait until the deployment was (re)registered at or after `since` (an older record may be stale)."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    deadline = time.monotonic() + timeout_s
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            try:
                if client.read_deployment_by_name(name).updated.timestamp() >= since - 1:
                    return
            except ObjectNotFound:
                pass
            why = server.serve_failed(cfg)
            if why:
                raise server.ServerError(why)
            time.sleep(1.0)
    raise server.ServerError(f"deployment {name} did not appear within {timeout_s:.0f} s; see {cfg.log_file('serve')}")


def _param(item: str) -> tuple[str, str, Any]:
    """One `-p KEY=JSON`: (parameter or section, setting of the section or '', value; text when not JSON)."""
    key, sep, text = item.partition("=")
    if not sep:
        raise ConfigError(f"-p: got {item!r}; allowed: KEY=JSON, e.g. training.epochs=5")
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = text
    section, _, field = key.partition(".")
    return section, field, value


def _params(args: argparse.Namespace, demo_url: str | None, dataset: str) -> dict:
    params: dict = {"dataset": dataset}
    if demo_url:
        params.update(json.loads(json.dumps(DEMO_PARAMS)), engine_url=demo_url)
    for item in args.param:
        section, field, value = _param(item)
        if field:
            params.setdefault(section, {})[field] = value
        else:
            params[section] = value
    return params


def check_params(items: list[str]) -> None:
    """Each `-p` against collect-and-train's parameters before anything starts: an unknown parameter or setting, or a
    value its type refuses, is one ConfigError naming it and what is allowed (no server started, no run created)."""
    import typing

    from pydantic import TypeAdapter, ValidationError

    from core.errors import describe
    from core.settings import Settings
    from flows.pipeline import collect_and_train

    hints = typing.get_type_hints(collect_and_train.fn, include_extras=True)
    hints.pop("return", None)
    for item in items:
        section, field, value = _param(item)
        where = f"-p {item.partition('=')[0]}"
        if section not in hints:
            raise ConfigError(f"{where}: unknown parameter {section!r}; allowed: {', '.join(hints)}")
        tp = hints[section]
        if field:
            inner = typing.get_args(tp)
            model = next((a for a in (tp, *inner) if isinstance(a, type) and issubclass(a, Settings)), None)
            if model is None:
                raise ConfigError(f"{where}: {section!r} has no settings; allowed: -p {section}=JSON")
            shown = [n for n in model.model_fields if n not in model.hidden_fields()]
            if field not in model.model_fields:
                raise ConfigError(f"{where}: unknown setting {field!r} of {section}; allowed: {', '.join(shown)}")
            try:
                model(**{field: value})
            except ConfigError as e:
                raise ConfigError(f"{where}: {str(e).partition(': ')[2]}") from None
            continue
        try:
            TypeAdapter(tp).validate_python(value)
        except (ValidationError, ConfigError) as e:
            line = describe(e, lambda loc: "") if isinstance(e, ValidationError) else str(e)
            raise ConfigError(f"{where}: {line.partition(': ')[2] or line}") from None


def _cmd_run(args: argparse.Namespace) -> int:
    if args.demo and args.no_watch:
        raise ConfigError("--no-watch: not with --demo (the demo image source lives only while the run is watched)")
    cfg = server.ServerConfig.from_env()
    spec = load_domains(args.domains)
    os.environ.update(cfg.env())  # this process is a client of that server (before anything imports prefect)
    check_params(args.param)  # before a server starts or a run is created
    rec, reused = server.start(cfg)
    print(f"Prefect server {'reused' if reused else 'started'} (pid {rec.pid}): UI {cfg.url}")
    served, reused = server.start_serve(cfg)
    print(f"deployments {'already served' if reused else 'served'} by pid {served.pid} (log {cfg.log_file('serve')})")
    _wait_for_deployment(cfg, PIPELINE, since=served.started_at)
    demo = None
    if args.demo:
        from sakura.demo import start_demo_source

        demo = start_demo_source(spec)
        print(f"demo image source on {demo.url} (synthetic streets: A green, B cherry blossoms)")
    name = f"{spec.name}-demo" if args.demo else spec.name
    params = _params(args, demo.url if demo else None, name)
    try:
        return _start_and_watch(cfg, params, watch=not args.no_watch)
    finally:
        if demo is not None:
            demo.close()


def _start_and_watch(cfg: server.ServerConfig, params: dict, watch: bool) -> int:
    """Start collect-and-train/default; unless told not to, print its stages, progress and pause until it ends."""
    from prefect.deployments import run_deployment

    from sakura.watch import Watcher, print_failure, run_url

    run = run_deployment(PIPELINE, parameters=params, timeout=0)
    url = run_url(cfg.url, str(run.id))
    print(f"started {PIPELINE}: flow run {run.id}\n  {url}")
    if not watch:
        return 0
    state = Watcher(str(run.id), cfg.url).until_final()
    if state.type.value != "COMPLETED":
        _print_locations(dataset_dir(params["dataset"]), cfg)
        print_failure(state, url)  # last: the cause, and a hint such as `make demo` when offline
        return 1
    _print_locations(dataset_dir(params["dataset"]), cfg)
    return 0


def _cmd_resume(args: argparse.Namespace) -> int:
    _use_api()
    from prefect.flow_runs import resume_flow_run

    decision = {"approve": not args.reject, "exclude": args.exclude + args.group, "note": args.note}
    resume_flow_run(args.run_id, run_input=decision)
    print(
        f"resumed {args.run_id}: {'approved' if not args.reject else 'rejected'}, excluding {args.exclude + args.group}"
    )
    return 0


def _cmd_demo_source(args: argparse.Namespace) -> int:
    from sakura.demo import start_demo_source

    source = start_demo_source(load_domains(args.domains), port=args.port)
    print(f"demo image source on {source.url} (Ctrl-C stops it). Point a run at it, e.g.:")
    print(f"  .venv/bin/prefect deployment run scrape/default -p engine_url={source.url} --watch")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
    finally:
        source.close()


def _print_locations(ds: Path, cfg: server.ServerConfig) -> None:
    """Where the results are: only what exists."""
    if DatasetLayout(ds).report.is_file():
        print(f"\ndataset:      {ds}  (raw/, train/, test/, curation/report.json)")
    elif ds.is_dir():
        print(f"\ndataset:      {ds}  (not curated yet)")
    if any(r.trained for r in RunDir.all(ds)):
        run = RunDir.newest(ds)
        print(f"checkpoints:  {run.last_checkpoint.parent}")
        print(f"translations: {run.translations}  (A2B/, B2A/)")
    print(f"Prefect UI:   {cfg.url}  (flow runs, review and training artifacts); `make stop` ends it")
    if any(r.has_generators for r in RunDir.all(ds)):
        print(f"try a photo:  {sakura_command()} app --dataset {ds.name}  (a page on 127.0.0.1: before and after)")


def sakura_command() -> str:
    """How to call this installation's `sakura` from here: .venv/bin/sakura in the project, else its full path."""
    exe = Path(sys.executable).parent / "sakura"
    if shutil.which("sakura") == str(exe):
        return "sakura"
    return str(exe.relative_to(Path.cwd())) if exe.is_relative_to(Path.cwd()) else str(exe)
