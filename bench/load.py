"""Load benchmark: the hotline's intake → offer → accept flow over HTTP against the real server
(`dolbom serve --workers N`), and a bare FastAPI endpoint (bench/bare.py) on the same machine in the same
run, as the yardstick. Reports requests/s and p50/p99 latencies, and the ratio to the bare endpoint.

    .venv/bin/python -m bench.load --database postgresql+psycopg://postgres@127.0.0.1:5432/postgres \\
        --workers 4 --json docs/load-benchmark.json
    .venv/bin/python -m bench.load --quick          # SQLite, small counts: a smoke run of a minute
    .venv/bin/python -m bench.load --database postgresql+psycopg://… --national   # bench/national.py
    .venv/bin/python -m bench.load --database postgresql+psycopg://… --surge --seed 1   # bench/surge_load.py

Phases: sequential intakes (and the accept of each one's offer through the signed link), the bare
endpoint sequentially; C concurrent clients on each for a fixed number of requests; then sequential intake
latency with 10 open requests and with --open (1,000) open requests. The server runs with development
data (28 demo providers, the demo operator) but without the living demo, which production does not have:
the offers are answered by the benchmark's own accepts (`--living-demo` turns it on). It reads the wall
clock (it measures), creates a database of its own and drops it at the end.

`--national` (issue 23) loads 30,000 providers and 5,000 open requests in bulk and times the sweep, the
board and intake at a fixed 10 calls a second instead; `--surge` replays the day simulator's surge morning
on the server with its providers answering. Their own modules say how."""

from __future__ import annotations

import argparse
import json
import os
import queue
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

SEOUL = ZoneInfo("Asia/Seoul")
SECRET = "bench-secret-" + "0" * 40
PLACES = ["평택시 비전동", "평택시 지산동", "평택시 세교동", "평택시 합정동", "평택시 송탄동", "평택시 안중읍"]


def client() -> httpx.Client:
    # without TCP_NODELAY a POST's body waits for the ACK of its headers: +40 ms a request (delayed ACK)
    nodelay = httpx.HTTPTransport(socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
    return httpx.Client(timeout=120, transport=nodelay)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(cmd: list[str], env: dict[str, str], ready: str, workers: int, cwd: str) -> subprocess.Popen:
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        for line in proc.stderr:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    seen = 0
    while seen < workers:
        line = lines.get(timeout=120)
        if line is None:
            raise SystemExit(f"{cmd[0]} exited before it was ready")
        seen += ready in line
    return proc


def body(i: int, day: date, name: str = "부하시험", block: int = 5600) -> dict:
    """The i-th test call (a 6-year-old, 09:00–13:00 on `day`, one of six Pyeongtaek places), its guardian
    named `name`+i with a number of its own in the 010-`block` range."""
    born = date(day.year - 6, 1, 1)
    return {"guardian": {"name": f"{name}{i}", "phone": f"010-{block + i // 10000:04d}-{i % 10000:04d}"},
            "children": [{"first_name": "아이", "birth_date": born.isoformat()}], "reason": "illness",
            "start_at": f"{day}T09:00:00+09:00", "end_at": f"{day}T13:00:00+09:00",
            "location": {"address": "평택시 1", "place": PLACES[i % len(PLACES)]}, "consent": {"guardian_consent": True}}


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def summary(latencies: list[float], seconds: float | None = None) -> dict:
    out = {"n": len(latencies), "p50_ms": round(pct(latencies, 50) * 1000, 1), "p99_ms": round(pct(latencies, 99) * 1000, 1),
           "mean_ms": round(statistics.fmean(latencies) * 1000, 1)}
    if seconds:
        out["rps"] = round(len(latencies) / seconds, 1)
    return out


class Flow:
    def __init__(self, base: str, token: str, first_day: date):
        self.base, self.headers, self.first_day = base, {"Authorization": f"Bearer {token}"}, first_day
        self.counter = 0
        self.lock = threading.Lock()

    def next_body(self) -> dict:
        with self.lock:
            i = self.counter = self.counter + 1
        return body(i, self.first_day + timedelta(days=i % 10))

    def intake(self, client: httpx.Client) -> tuple[float, dict]:
        t = time.perf_counter()
        res = client.post(f"{self.base}/v1/requests", json=self.next_body(),
                          headers={**self.headers, "Idempotency-Key": uuid.uuid4().hex})
        elapsed = time.perf_counter() - t
        if res.status_code != 201:
            raise SystemExit(f"intake answered {res.status_code}: {res.text[:300]}")
        return elapsed, res.json()

    def accept(self, client: httpx.Client, created: dict) -> float | None:
        from hotline.core.links import sign

        pending = [o for o in created["offers"] if o["status"] == "pending"]
        if not pending:
            return None
        offer = pending[0]
        token = sign(SECRET, "offer", offer["id"], datetime.fromisoformat(offer["expires_at"]))
        t = time.perf_counter()
        res = client.post(f"{self.base}/o/{token}", data={"action": "accept"})
        elapsed = time.perf_counter() - t
        if res.status_code not in (200, 409):
            raise SystemExit(f"accept answered {res.status_code}: {res.text[:300]}")
        return elapsed


def concurrent(fn, clients: int, total: int) -> tuple[list[float], float]:
    latencies: list[float] = []
    lock = threading.Lock()
    left = [total]

    def worker() -> None:
        with client() as http:
            while True:
                with lock:
                    if left[0] == 0:
                        return
                    left[0] -= 1
                elapsed = fn(http)
                with lock:
                    latencies.append(elapsed)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return latencies, time.perf_counter() - t


def sms_delays(url: str) -> dict:
    """Seconds from an SMS row's creation (its request's clock) to its hand-over to the sender, over every
    SMS of the run: whichever worker wrote it, the scheduler's dispatcher should send it at once."""
    from sqlmodel import Session, select

    from hotline.core.db import make_engine
    from hotline.models import OutboxMessage

    from hotline.models import OutboxStatus

    engine = make_engine(url)
    deadline = time.monotonic() + 15
    with Session(engine) as session:
        while time.monotonic() < deadline and session.exec(  # the last intakes' texts still going out
                select(OutboxMessage.id).where(OutboxMessage.status == OutboxStatus.pending)).first():
            session.rollback()
            time.sleep(0.2)
        rows = session.exec(select(OutboxMessage.created_at, OutboxMessage.sent_at)
                            .where(OutboxMessage.sent_at != None)).all()  # noqa: E711
    engine.dispose()
    delays = [(sent - created).total_seconds() for created, sent in rows]
    return {"sent": len(delays), "p50_s": round(pct(delays, 50), 3), "p99_s": round(pct(delays, 99), 3),
            "max_s": round(max(delays), 3)} if delays else {"sent": 0}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    p.add_argument("--database", default=None, help="PostgreSQL server URL (a database of its own is created); "
                   "default: a SQLite file in a temporary folder")
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--sequential", type=int, default=200)
    p.add_argument("--clients", type=int, default=10)
    p.add_argument("--concurrent", type=int, default=400, help="requests in the concurrent phase")
    p.add_argument("--open", type=int, default=1000, help="open requests for the last phase")
    p.add_argument("--quick", action="store_true", help="small counts (a smoke run)")
    p.add_argument("--living-demo", action="store_true",
                   help="let the demo providers answer offers in the background, as `make run` does (off by "
                        "default: production has no living demo; the benchmark's own accepts answer)")
    p.add_argument("--json", default=None)
    n = p.add_argument_group("national scale (issue 23; bench/national.py: PostgreSQL only)")
    n.add_argument("--national", action="store_true", help="load --providers and --open-requests in bulk, time "
                   "the sweep, the board and intake at --rate calls a second (open loop) for --seconds")
    n.add_argument("--providers", type=int, default=30_000)
    n.add_argument("--open-requests", type=int, default=5_000)
    n.add_argument("--rate", default="10", help="intake calls a second (fixed arrival rate); several, comma "
                   "separated (e.g. 3,6,10), are run one after the other on the same database")
    n.add_argument("--seconds", type=float, default=60.0, help="how long the intake phase lasts")
    n.add_argument("--seed", type=int, default=23)
    g = p.add_argument_group("the surge (issue 23; bench/surge_load.py: the simulator's `surge` world on the server)")
    g.add_argument("--surge", action="store_true", help="replay the surge morning's calls with its providers "
                   "answering, the morning compressed --speedup times; --seed picks the day")
    g.add_argument("--speedup", type=float, default=20.0)
    g.add_argument("--surge-calls", type=int, default=None, help="fewer calls than the world's 320 (a smoke run)")
    args = p.parse_args(argv)
    if args.quick:
        args.sequential, args.concurrent, args.open = 30, 60, 60
    if (args.national or args.surge) and not args.database:
        p.error("--national and --surge need --database (PostgreSQL)")
    repo = Path(__file__).resolve().parents[1]
    tmp = tempfile.mkdtemp(prefix="dolbom-load-")
    admin = db_name = None
    if args.database:
        from sqlalchemy import text
        from sqlalchemy.engine import make_url

        from hotline.core.db import make_engine

        db_name = f"dolbom_load_{uuid.uuid4().hex[:8]}"
        admin = make_engine(args.database, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{db_name}"'))
        url = make_url(args.database).set(database=db_name).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{tmp}/load.db"
    port, bare_port = free_port(), free_port()
    # development for the demo providers and operator account; the living demo only when asked
    env = {**os.environ, "DOLBOM_ENVIRONMENT": "development", "DOLBOM_DATABASE_URL": url, "DOLBOM_SECRET_KEY": SECRET,
           "DOLBOM_PUBLIC_URL": f"http://127.0.0.1:{port}", "PYTHONPATH": str(repo),
           "DOLBOM_DEMO_PROVIDERS_ANSWER": "true" if args.living_demo else "false"}
    result: dict = {"command": "python -m bench.load " + " ".join(argv if argv is not None else sys.argv[1:]),
                    "database": "postgresql" if args.database else "sqlite", "workers": args.workers,
                    "living_demo": args.living_demo,
                    "clients": args.clients, "cpus": os.cpu_count(), "at": datetime.now(SEOUL).isoformat(timespec="minutes"),
                    "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}  # others' work on the machine
    server = bare = None
    try:
        if args.national:  # the database is loaded and swept before the server starts (bench/national.py)
            from bench import national

            result["national"] = national.prepare(url, providers=args.providers, open_requests=args.open_requests,
                                                  seed=args.seed, data_dir=repo / "data", secret=SECRET,
                                                  public_url=f"http://127.0.0.1:{port}")
        if args.surge:
            from bench import surge_load

            surge = surge_load.prepare(url, seed=args.seed, data_dir=repo / "data", today=datetime.now(SEOUL).date(),
                                       calls=args.surge_calls)
        server = start([sys.executable, "-m", "api.cli", "serve", "--workers", str(args.workers), "--port", str(port)],
                       env, "Application startup complete", args.workers, tmp)
        if args.national:
            run_national(result["national"], f"http://127.0.0.1:{port}", args, repo)
        elif args.surge:
            base = f"http://127.0.0.1:{port}"
            with client() as http:
                token = http.post(f"{base}/v1/auth/token", data={"username": "operator", "password": "dolbom-demo-1234"}).json()["access_token"]
            result["surge"] = surge_load.run(surge, url=url, base=base, token=token, secret=SECRET, speedup=args.speedup)
        else:
            bare = start([sys.executable, "-m", "bench.bare", "--workers", str(args.workers), "--port", str(bare_port)],
                         env, "Application startup complete", args.workers, str(repo))
            run_standard(result, args, url, f"http://127.0.0.1:{port}", f"http://127.0.0.1:{bare_port}/bare")
    finally:
        procs = [proc for proc in (server, bare) if proc is not None]
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        if admin is not None:
            from sqlalchemy import text

            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
            admin.dispose()
    return finish(result, args)


def run_standard(result: dict, args: argparse.Namespace, url: str, base: str, bare_url: str) -> None:
    """The phases of the intake benchmark (see the module's docstring)."""
    with client() as http:
        token = http.post(f"{base}/v1/auth/token", data={"username": "operator", "password": "dolbom-demo-1234"}).json()["access_token"]
        flow = Flow(base, token, datetime.now(SEOUL).date() + timedelta(days=1))
        sample = flow.next_body()
        for _ in range(10):  # warm-up: 10 open requests
            flow.intake(http)
            http.post(bare_url, json=sample)
        few = [flow.intake(http)[0] for _ in range(20)]  # intake latency with 10-30 open requests
        intakes, accepts = [], []
        for _ in range(args.sequential):
            elapsed, created = flow.intake(http)
            intakes.append(elapsed)
            if (a := flow.accept(http, created)) is not None:
                accepts.append(a)
        bares = []
        for _ in range(args.sequential):
            t = time.perf_counter()
            http.post(bare_url, json=sample)
            bares.append(time.perf_counter() - t)
    result["sequential"] = {"intake": summary(intakes), "accept": summary(accepts), "bare": summary(bares)}
    lat, secs = concurrent(lambda c: flow.intake(c)[0], args.clients, args.concurrent)
    blat, bsecs = concurrent(lambda c: (lambda t: (c.post(bare_url, json=sample), time.perf_counter() - t)[1])(time.perf_counter()),
                             args.clients, args.concurrent * 5)
    result["concurrent"] = {"intake": summary(lat, secs), "bare": summary(blat, bsecs)}
    result["concurrent"]["intake_share_of_bare_rps"] = round(result["concurrent"]["intake"]["rps"] / result["concurrent"]["bare"]["rps"], 3)
    # latency with many open requests: fill up to --open (no accepts), then measure sequentially
    with client() as http:
        while flow.counter - len(accepts) < args.open:
            flow.intake(http)
        many = [flow.intake(http)[0] for _ in range(20)]
    result["open_requests"] = {"few": summary(few), "many": summary(many),
                               "open_at_many": flow.counter - len(accepts),
                               "p50_ratio": round(pct(many, 50) / pct(few, 50), 2)}
    result["sms_after_commit"] = sms_delays(url)


def finish(result: dict, args: argparse.Namespace) -> int:
    result["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(result, ensure_ascii=False, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0


def run_national(out: dict, base: str, args: argparse.Namespace, repo: Path) -> None:
    """The server's part of the national run: the board with the open requests, intake at a fixed rate,
    the board again after it."""
    from bench import national

    out["board_before"] = national.board_times(base, client)
    with client() as http:
        token = http.post(f"{base}/v1/auth/token", data={"username": "operator", "password": "dolbom-demo-1234"}).json()["access_token"]
    days = [date.fromisoformat(d) for d in out["days"]]
    send = national.intake_sender(base, token, days, repo / "data", args.seed)
    for k, rate in enumerate(float(r) for r in str(args.rate).split(",")):
        if k:
            time.sleep(20)  # the last phase's queue drains before the next is timed
        phase = {**national.open_loop(send, rate, args.seconds), "refused": list(send.refused),
                 "resent_after_reset": len(send.retried)}
        send.retried.clear()
        out.setdefault("intake_by_rate", []).append(phase)
        out["intake"] = phase  # the last (the highest, listed last)
    out["board_after"] = national.board_times(base, client)


if __name__ == "__main__":
    raise SystemExit(main())
