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
