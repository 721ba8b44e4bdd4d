"""The yardstick of bench/load.py: a bare FastAPI endpoint that parses a JSON body like the intake's and
answers it, nothing else — no database, no auth. Served by uvicorn with the same worker count."""

from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class Body(BaseModel):
    guardian: dict
    children: list[dict]
    reason: str
    start_at: str
    end_at: str
    location: dict
    consent: dict


@app.post("/bare")
def bare(body: Body) -> Body:
    return body


if __name__ == "__main__":
    # served the way `dolbom serve --workers N` serves the hotline (same listener fix), so the two compare
    import argparse

    import uvicorn

    from api.cli import run_workers

    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--workers", type=int, default=4)
    args = p.parse_args()
    run_workers(uvicorn.Config("bench.bare:app", workers=args.workers, port=args.port, log_level="info",
                               access_log=False))
