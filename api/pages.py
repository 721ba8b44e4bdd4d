"""HTML pages (Jinja2, our own templates and CSS; no CDN). Korean first, English where the reader's
language is English."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from hotline.core.clock import fmt_window, local

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.filters["seoul"] = lambda dt, fmt="%m/%d %H:%M": local(dt).strftime(fmt) if dt else ""
templates.env.filters["window"] = lambda start, end, lang="ko": fmt_window(start, end, lang)
NEED_LABELS = {"infant": "영아", "special_needs": "특수 돌봄"}
COUNT_LABELS = {"in_radius": "반경 내", "reviewed": "가까운 순 검토", "feasible": "배정 가능", "nearer_used": "더 가까운 곳 사용 중",
                "closed": "운영시간 외", "busy": "다른 방문 중", "full": "정원 초과", "full_by_plan": "다른 요청에 배정",
                "not_selected": "선택 안 됨", "excluded": "거절·만료", "age": "연령 불가", "skill": "필요 역량 없음",
                "language": "언어 불가", "lead_time": "준비 시간 부족", "too_many_children": "아동 수 초과"}
templates.env.filters["count_label"] = lambda key: COUNT_LABELS.get(key, key)
templates.env.filters["needs_ko"] = lambda needs: ", ".join(NEED_LABELS.get(n, n) for n in needs) or "—"


def _minutes_text(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes}분"
    return f"{minutes // 60}시간 {minutes % 60}분"


def ago(dt, now) -> str:
    """`12분 전` since a moment (the console's time since the call); console.js keeps it current."""
    return "방금" if dt is None or (now - dt).total_seconds() < 60 else _minutes_text((now - dt).total_seconds()) + " 전"


def remaining(deadline, now) -> str:
    """`4분 30초 남음` to a deadline; console.js counts it down."""
    if deadline is None:
        return ""
    left = (deadline - now).total_seconds()
    if left <= 0:
        return "기한 지남"
    return (f"{int(left // 60)}분 {int(left % 60)}초" if left < 3600 else _minutes_text(left)) + " 남음"


templates.env.filters["ago"] = ago
templates.env.filters["remaining"] = remaining
templates.env.filters["iso"] = lambda dt: dt.isoformat() if dt else ""


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    lang = context.get("lang", "ko")
    context = {**context, "lang": lang, "t": (lambda ko, en: en if lang == "en" else ko)}
    return templates.TemplateResponse(request, name, context, status_code=status_code)
