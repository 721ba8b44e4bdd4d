"""The `dolbom` command: serve the API (with demo data on SQLite), run the scheduler, seed, benchmark."""

from __future__ import annotations

import argparse
import logging
import socket
import sys

from hotline.core.clock import Clock


class SeoulFormatter(logging.Formatter):
    """Log times in one zone, Seoul's, whatever the machine's zone (SMS, offers and the README speak it)."""

    def formatTime(self, record, datefmt=None):  # noqa: N802
        from datetime import datetime

        from hotline.core.clock import SEOUL

        return datetime.fromtimestamp(record.created, SEOUL).strftime("%Y-%m-%d %H:%M:%S+09:00")


class NoPolls(logging.Filter):
    """Each open console board asks for its version every 1.5 s: those requests are not news."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "/console/board/version" not in record.getMessage()


# one handler and one format for the service, uvicorn and every worker process; the scheduler's
# "Running job" lines (most of the log before) only at WARNING
LOG_CONFIG = {
    "version": 1, "disable_existing_loggers": False,
    "formatters": {"seoul": {"()": "api.cli.SeoulFormatter", "fmt": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "filters": {"no_polls": {"()": "api.cli.NoPolls"}},
    "handlers": {"default": {"class": "logging.StreamHandler", "formatter": "seoul", "filters": ["no_polls"],
                             "stream": "ext://sys.stderr"}},
    "root": {"handlers": ["default"], "level": "INFO"},
    "loggers": {name: {"handlers": [], "propagate": True, "level": level} for name, level in
                (("uvicorn", "INFO"), ("uvicorn.error", "INFO"), ("uvicorn.access", "INFO"),
                 ("apscheduler", "WARNING"), ("alembic", "WARNING"))},
}


def _prepare(settings) -> None:
    """Migrate; in development only, load the invented demo providers and demo accounts."""
    from sqlmodel import Session

    from hotline.core.db import make_engine, migrate
    from hotline.places.geo import load_places
    from hotline.demo.seed import seed_demo

    engine = make_engine(settings.database_url)
    migrate(engine)
    if not settings.is_development:
        engine.dispose()
        return
    with Session(engine) as session:
        seeded = seed_demo(session, settings.data_dir, now=Clock().now(), places=load_places(settings.data_dir),
                           operator=(settings.demo_operator_username, settings.demo_operator_password),
                           province=True)  # providers in all 31 시·군 (hotline.demo.province)
        session.commit()
    if seeded["providers"]:
        print(f"demo data: {seeded['providers']} providers loaded from {settings.data_dir}")
    engine.dispose()


def tcp_listener(sock: socket.socket) -> socket.socket:
    """The listening socket uvicorn bound for its workers, re-wrapped to say it is TCP.

    uvicorn's `bind_socket()` leaves `proto` at 0; accepted connections inherit it, and asyncio turns
    TCP_NODELAY on only when `proto == IPPROTO_TCP` — so with `--workers N` every keep-alive response waited
    on the client's delayed ACK, ~40 ms a request on Linux (Kludex/uvicorn#3149, open)."""
    if sock.family not in (socket.AF_INET, socket.AF_INET6) or sock.proto == socket.IPPROTO_TCP:
        return sock
    tcp = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
    tcp.set_inheritable(True)
    return tcp


def run_workers(config) -> None:
    """uvicorn's multi-worker supervisor on the fixed listener (`tcp_listener`), until Ctrl-C or SIGTERM."""
    from uvicorn.supervisors import Multiprocess

    try:
        Multiprocess(config, sockets=[tcp_listener(config.bind_socket())]).run()
    except KeyboardInterrupt:
        pass


def proxy_options(settings, flag: str | None) -> dict:
    """Which proxies' X-Forwarded-For uvicorn believes: `--forwarded-allow-ips`, else the setting (loopback by
    default); none at all when it is empty."""
    allowed = (settings.forwarded_allow_ips if flag is None else flag).strip()
    return {"proxy_headers": bool(allowed), "forwarded_allow_ips": allowed or None}


def serve(args: argparse.Namespace) -> int:
    import os

    import uvicorn

    from api import dev_sms
    from api.main import create_app, ready_to_serve
    from hotline.core.config import exposed_development, get_settings

    # in development the links in texts point where this server listens (`make run PORT=8010`)
    settings = dev_sms.listening_url(get_settings(), args.host, args.port)
    if refusal := exposed_development(settings, args.host):
        print(refusal, file=sys.stderr)
        return 2
    _prepare(settings)
    base = f"http://{args.host}:{args.port}"
    print(f"\n  언제나 돌봄 hotline\n  API docs : {base}/docs\n  console  : {base}/console\n")
    if settings.is_development:
        dev_sms.remember_served_url(settings)  # for `dolbom sms` and `dolbom scheduler`
        print(f"  demo operator: {settings.demo_operator_username} / {settings.demo_operator_password}"
              f"  (providers sign in with their code, e.g. pt-f01, same password)\n"
              f"  links in texts: {settings.public_url}\n"
              f"  answer a text as a phone would: .venv/bin/dolbom sms --from 010-5551-1037 \"1 A7\"\n")
    if args.workers > 1:
        # each worker process builds its app (api.main.worker_app); the first to take the scheduler lock
        # also runs the scheduler, and if it dies, its restarted successor takes the lock over
        os.environ["DOLBOM_SERVE_SCHEDULER"] = "0" if args.no_scheduler else "1"
        os.environ["DOLBOM_PUBLIC_URL"] = settings.public_url  # the workers read their settings afresh
        run_workers(uvicorn.Config("api.main:worker_app", factory=True, workers=args.workers, host=args.host,
                                   port=args.port, log_config=LOG_CONFIG, access_log=False,
                                   **proxy_options(settings, args.forwarded_allow_ips)))
        return 0
    # the scheduler runs in this process unless a `dolbom scheduler` (or another server) holds the lock
    app = ready_to_serve(create_app(settings, run_scheduler=not args.no_scheduler))
    uvicorn.run(app, host=args.host, port=args.port,
                log_config=LOG_CONFIG, access_log=False,  # api.access_log writes route templates instead
                **proxy_options(settings, args.forwarded_allow_ips))
    return 0


def sms(args: argparse.Namespace) -> int:
    """Development: a text from a phone, signed as Twilio signs it and posted to the running server's
    webhook (`dolbom sms --from 010-5551-1037 "1 A7"`: pt-f01 accepts offer A7); api.dev_sms signs it."""
    import httpx

    from api import dev_sms
    from hotline.core.config import get_settings
    from hotline.core.errors import InvalidInput
    from hotline.core.phones import to_e164

    logging.getLogger("httpx").setLevel(logging.WARNING)  # its request line would repeat ours
    settings = get_settings()
    token = dev_sms.inbound_token(settings)
    if not settings.is_development or token is None:
        print("dolbom sms only answers a development server (DOLBOM_ENVIRONMENT=development)", file=sys.stderr)
        return 1
    try:
        sender = to_e164(args.sender, "from")
    except InvalidInput as exc:
        print(exc.errors[0].message_ko, file=sys.stderr)
        return 2
    base = args.url or dev_sms.served_url(settings)
    try:
        with httpx.Client(timeout=15) as http:
            res = dev_sms.send(http, base, token, sender=sender, body=args.text,
                               to=settings.twilio_from_number or "")
    except httpx.HTTPError as exc:
        print(f"{base}에 연결하지 못했습니다. `make run`이 실행 중인가요? ({type(exc).__name__})", file=sys.stderr)
        return 1
    if res.status_code != 200:
        print(f"서버가 문자를 받지 않았습니다: HTTP {res.status_code} {res.text[:300]}", file=sys.stderr)
        return 1
    print(f"{args.sender} → {base}: '{args.text}' 보냈습니다. 답장은 서버의 터미널에 찍힙니다.")
    return 0


def scheduler(args: argparse.Namespace) -> int:
    """A dedicated scheduler process: expiry, re-matching sweep, reminders, surveys and the SMS outbox."""
    import signal
    import threading

    from hotline import jobs
    from hotline.core.config import get_settings
    from hotline.core.db import make_engine
    from hotline.places.geo import load_places
    from hotline.offers.loop import OfferContext
    from hotline.sms.senders import sender_from_settings

    from api.dev_sms import served_url

    settings = get_settings()
    if settings.is_development:  # links in texts point at the development server `dolbom serve` started
        settings = settings.model_copy(update={"public_url": served_url(settings)})
    engine = make_engine(settings.database_url)
    lock = jobs.SchedulerLock(engine)
    if not lock.acquire():
        print("another process already runs the scheduler", file=sys.stderr)
        return 1
    ctx = OfferContext(settings=settings, places=load_places(settings.data_dir))
    running = jobs.start(engine, ctx, Clock(), sender_from_settings(settings))
    print("scheduler running (Asia/Seoul); Ctrl-C to stop")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    running.shutdown()
    lock.release()
    return 0


def demo_day(args: argparse.Namespace) -> int:
    """Invented calls: development databases only."""
    from hotline.core.config import get_settings
    from hotline.core.db import make_engine
    from hotline.demo.day import play_day
    from hotline.places.geo import load_places
    from hotline.offers.loop import OfferContext

    settings = get_settings()
    if not settings.is_development:
        print("demo-day only runs against a development database", file=sys.stderr)
        return 1
    _prepare(settings)
    ctx = OfferContext(settings=settings, places=load_places(settings.data_dir))
    for ref, status in play_day(make_engine(settings.database_url), ctx, province=True):
        print(f"{ref}  {status}")
    return 0


def demo(args: argparse.Namespace) -> int:
    """`dolbom demo reset`: empty the development database and load the demo providers and accounts again
    (stop `make run` first). Unlike `make clean`, it keeps .venv."""
    from sqlalchemy import text
    from sqlmodel import SQLModel

    import hotline.models  # noqa: F401  (registers the tables)
    from hotline.core.config import get_settings
    from hotline.core.db import make_engine

    settings = get_settings()
    if not settings.is_development:
        print("demo reset only runs against a development database", file=sys.stderr)
        return 1
    engine = make_engine(settings.database_url)
    SQLModel.metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        conn.execute(text("DROP TABLE IF EXISTS apscheduler_jobs"))
    engine.dispose()
    _prepare(settings)
    print("demo data reset: no requests, the demo providers and accounts as on first start")
    return 0


def bench(args: list[str]) -> int:
    """The matching benchmark; `dolbom bench --simulate` is the day simulator's quick benchmark instead (one
    seed of each world, both policies: `dolbom simulate` runs the full comparison)."""
    if "--simulate" in args:
        rest = [a for a in args if a != "--simulate"]
        return main(["simulate", "--seeds", "1", *rest])
    from matching.bench import main as bench_main

    return bench_main(args)


def simulate(args: argparse.Namespace) -> int:
    """Days of calls through the real API and offer loop on a frozen clock (bench.simulator)."""
    import dataclasses
    import json
    from pathlib import Path

    from bench import simulator

    logging.getLogger().setLevel(logging.WARNING)
    if args.day == "slow":  # its own shares and delays unless given explicitly
        given = {k: getattr(args, k) for k in ("accept", "decline", "median", "p90") if getattr(args, k) is not None}
        behaviour = dataclasses.replace(simulator.SLOW_DAY, **{
            {"median": "median_minutes", "p90": "p90_minutes"}.get(k, k): v for k, v in given.items()})
    else:
        behaviour = simulator.Behaviour(**{f: v for f, v in (("accept", args.accept), ("decline", args.decline),
                                                             ("median_minutes", args.median),
                                                             ("p90_minutes", args.p90)) if v is not None})
    falls = simulator.Fallthroughs(withdrawals=args.withdrawals, no_shows=args.no_shows,
                                   parent_reports=args.parent_reports)
    seeds = list(range(1, args.seeds + 1))
    command = "dolbom simulate " + " ".join(sys.argv[2:])

    def progress(r):
        print(f"{r.world:10s} {r.policy:6s} seed {r.seed}: {r.confirmed}/{r.confirmable} confirmable confirmed, "
              f"{r.confirmed_within_target_share:.0%} within 15 min ({r.confirmed_within_30_min_share:.0%} in 30), median {r.median_minutes} min, "
              f"{r.offers_per_confirmation} offers/conf., {r.escalations} escalated "
              f"({r.confirmable_escalated} confirmable), {r.left_open} open, {r.wrong_offer_answers} wrong answers",
              flush=True)
        if r.fall_throughs is not None:
            able = [f for f in r.fall_throughs if f["replaceable"]]
            print(f"{'':10s} {'':6s}        {len(r.fall_throughs)} fell through, {len(able)} re-placeable, "
                  f"{sum(f['within_target'] for f in able)} re-confirmed in time, "
                  f"{sum(f['replaced_min'] is None for f in r.fall_throughs)} unplaced", flush=True)

    reports = simulator.run(args.worlds.split(","), args.policies.split(","), seeds, behaviour=behaviour,
                            calls=args.calls, progress=progress, jobs=args.jobs, fallthroughs=falls,
                            history_offers=args.history, calls_factor=2.0 if args.day == "busy" else 1.0,
                            overrides={k: json.loads(v) for k, v in (a.split("=", 1) for a in args.set)})
    result = simulator.result_json(reports, command, behaviour, falls)
    print(json.dumps(result["summary"], ensure_ascii=False, indent=1))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    if args.png:
        simulator.plot(reports, Path(args.png))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    import logging.config

    if not logging.getLogger().handlers:  # like basicConfig: a host (pytest) that set up logging keeps it
        logging.config.dictConfig(LOG_CONFIG)
    if argv and argv[0] == "bench":
        return bench(argv[1:])
    parser = argparse.ArgumentParser(prog="dolbom", description="언제나 돌봄 hotline")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve", help="run the API and console")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--no-scheduler", action="store_true", help="leave the jobs to `dolbom scheduler`")
    p.add_argument("--forwarded-allow-ips", default=None, help="proxies whose X-Forwarded-For is believed "
                   "(default: DOLBOM_FORWARDED_ALLOW_IPS, else 127.0.0.1; '' for none)")
    p.add_argument("--workers", type=int, default=1, help="API worker processes (production: 2 per core); one of "
                   "them also runs the scheduler")
    sub.add_parser("scheduler", help="run the job scheduler alone (one per database)")
    p = sub.add_parser("sms", help="development: send the running server a text as a phone would (signed)")
    p.add_argument("--from", dest="sender", required=True,
                   help="the phone it comes from, e.g. 010-5551-1037 (pt-f01 in the demo data)")
    p.add_argument("--url", default=None, help="the server (default: where `dolbom serve` last listened)")
    p.add_argument("text", help='the text, e.g. "1 A7" to accept offer A7')
    sub.add_parser("bench", help="run the matching benchmark (see `dolbom bench --help`)")
    sub.add_parser("demo-day", help="log the scripted day of demo calls (data/demo_scenario.json)")
    p = sub.add_parser("demo", help="development data: `dolbom demo reset` empties it and reloads the demo providers")
    p.add_argument("action", choices=["reset"])
    p = sub.add_parser("simulate", help="play simulated days through the API and the offer loop")
    p.add_argument("--worlds", default="pyeongtaek,gyeonggi",
                   help="of pyeongtaek, gyeonggi, gyeonggi-city, surge (a school-closure morning)")
    p.add_argument("--policies", default="waves,rounds", help="offer policies to compare (waves = default)")
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--calls", type=int, default=None, help="calls a day (default: the world's own)")
    p.add_argument("--jobs", type=int, default=1, help="days simulated at once, in separate processes")
    p.add_argument("--day", choices=["normal", "slow", "busy"], default="normal",
                   help="slow: providers accept 45 %%, decline 25 %%, answer after a median 8 min (p90 30); "
                   "busy: twice the world's calls")
    p.add_argument("--history", type=int, default=12,
                   help="past offers each provider starts with (0: a cold start, no history at all)")
    p.add_argument("--accept", type=float, default=None, help="mean accept share (default 0.65)")
    p.add_argument("--decline", type=float, default=None, help="mean decline share (default 0.20)")
    p.add_argument("--median", type=float, default=None, help="median answer delay, minutes (default 4)")
    p.add_argument("--p90", type=float, default=None, help="90th percentile answer delay, minutes (default 15)")
    p.add_argument("--withdrawals", type=float, default=0.0, help="share of confirmations the provider withdraws "
                   "(SMS, 12 h to 30 min before the start; issue 19)")
    p.add_argument("--no-shows", type=float, default=0.0, help="share of placements whose provider never checks in")
    p.add_argument("--parent-reports", type=float, default=0.5, help="share of no-shows the parent reports by SMS "
                   "(the rest: the operator re-places at start + 20 min)")
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                   help="an offer policy field for every policy played, e.g. --set offer_value=20 (JSON values)")
    p.add_argument("--json", default=None)
    p.add_argument("--png", default=None)
    args = parser.parse_args(argv)
    return {"serve": serve, "scheduler": scheduler, "demo-day": demo_day, "demo": demo,
            "simulate": simulate, "sms": sms}[args.command](args)


if __name__ == "__main__":
    raise SystemExit(main())
