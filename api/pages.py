"""HTML pages (Jinja2, our own templates and CSS; no CDN). Korean first, English where the reader's
language is English."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from hotline.clock import fmt_window, local

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.filters["seoul"] = lambda dt, fmt="%m/%d %H:%M": local(dt).strftime(fmt) if dt else ""
templates.env.filters["window"] = lambda start, end, lang="ko": fmt_window(start, end, lang)
NEED_LABELS = {"infant": "영아", "special_needs": "특수 돌봄"}
COUNT_LABELS = {"in_radius": "반경 내", "feasible": "배정 가능", "nearer_used": "더 가까운 곳 사용 중",
                "closed": "운영시간 외", "busy": "다른 방문 중", "full": "정원 초과", "full_by_plan": "다른 요청에 배정",
                "not_selected": "선택 안 됨", "excluded": "거절·만료", "age": "연령 불가", "skill": "필요 역량 없음",
                "language": "언어 불가", "lead_time": "준비 시간 부족", "too_many_children": "아동 수 초과"}
templates.env.filters["count_label"] = lambda key: COUNT_LABELS.get(key, key)
templates.env.filters["needs_ko"] = lambda needs: ", ".join(NEED_LABELS.get(n, n) for n in needs) or "—"


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    lang = context.get("lang", "ko")
    context = {**context, "lang": lang, "t": (lambda ko, en: en if lang == "en" else ko)}
    return templates.TemplateResponse(request, name, context, status_code=status_code)
