"""The operator console (HTML). Filled in below."""

from fastapi import APIRouter

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False)
