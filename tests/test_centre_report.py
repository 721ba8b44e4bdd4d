"""The centre report: the console page (figures, SVG charts, province roll-up), and CSV and XLSX downloads
whose figures are the page's."""

from __future__ import annotations

import csv
import io
import re

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from conftest import request_body
from hotline import offers
from hotline.applications import service as applications
from hotline.centre_report.figures import ROWS
from hotline.models import CareRequest, Offer, OfferStatus, OutboxMessage
from hotline.requests.schemas import CareRequestCreate
from test_console import sign_in


def test_report_page_csv_and_xlsx_agree(client, app, engine, clock, operator, demo):
    refs = [client.post("/v1/requests", json=request_body(guardian={"name": "김하늘", "phone": f"010-5550-12{i:02d}",
                                                                  "language": "ko"}), headers=operator).json()["ref"]
            for i in range(3)]
    ctx = app.state.offer_context
    with Session(engine) as s:
        body = CareRequestCreate.model_validate(request_body(guardian={"name": "이온라", "phone": "010-5550-9000"}))
        ticket = applications.send_code(s, body, client="127.0.0.9", now=clock.now(), ctx=ctx, secret="k")
        s.commit()
        # the code the parent received (the draft is sealed with it, so no other code opens it)
        sent = s.exec(select(OutboxMessage).where(OutboxMessage.kind == "apply_code")).one().body
        applications.confirm_code(s, ticket.id, re.search(r"\d{6}", sent).group(), now=clock.now(), ctx=ctx, secret="k")
        s.commit()
    clock.advance(minutes=7)
    with Session(engine) as s:  # the first two are accepted seven minutes after the call
        for ref in refs[:2]:
            care = s.exec(select(CareRequest).where(CareRequest.ref == ref)).one()
            offer = s.exec(select(Offer).where(Offer.request_id == care.id, Offer.status == OfferStatus.pending)).first()
            offers.answer(s, offer.id, accept=True, channel="sms", now=clock.now(), ctx=ctx)
        s.commit()
    sign_in(client, engine)
    page = client.get("/console/centre-report", params={"month": "2026-11", "city": "평택시"})
    assert page.status_code == 200 and page.text.count("<svg") == 2 and "도 종합" in page.text
    shown = dict(re.findall(r'data-key="(\w+)">([^<]*)<', page.text))
    assert shown["calls"] == "4" and shown["calls_online"] == "1" and shown["calls_phone"] == "3"
    assert shown["placed"] == "2" and shown["median_minutes"] == "7.0" and shown["providers"] != "0"

    xlsx = client.get("/console/centre-report.xlsx", params={"month": "2026-11", "city": "평택시"})
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(xlsx.content))
    sheet = book["센터 보고서"]
    values = {row[0]: row[2] for row in sheet.iter_rows(min_row=3, values_only=True)}
    labels = dict(re.findall(r'<th scope="row">([^<]+?) <span[^>]*>[^<]*</span></th><td data-key="(\w+)"', page.text))
    for label, key in labels.items():
        assert (values[label] is None and shown[key] == "—") or float(values[label]) == float(shown[key]), label
    rollup = [row for row in book["도 종합"].iter_rows(values_only=True)]
    assert rollup[-1][0] == "경기도 전체" and rollup[-1][2] == 4

    text = client.get("/console/centre-report.csv", params={"month": "2026-11", "city": "평택시"}).text
    lines = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert ["접수 건수", "Requests", "4"] in lines and ["온라인 신청", "Online", "1"] in lines
    assert client.get("/console/centre-report", params={"month": "2026-13"}).status_code == 422


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # a month of calls: once is enough
def test_a_simulated_month_on_the_page_and_in_the_xlsx(client, app, engine, clock, demo):
    from hotline.centre_report.month_sim import simulate_month

    with Session(engine, expire_on_commit=False) as s:
        calls = simulate_month(s, ctx=app.state.offer_context, clock=clock, year=2026, month=11, calls_per_day=2)
    assert calls == 60
    sign_in(client, engine)
    page = client.get("/console/centre-report", params={"month": "2026-11", "city": "평택시"}).text
    shown = dict(re.findall(r'data-key="(\w+)">([^<]*)<', page))
    assert shown["calls"] == "60" and int(shown["calls_online"]) > 0 and int(shown["placed"]) > 30
    assert int(shown["follow_ups"]) > 0 and shown["satisfaction"] != "—" and "운영시간 외" in page
    assert page.count("<rect") > 60  # a bar per day and channel, and the histogram
    book = load_workbook(io.BytesIO(client.get("/console/centre-report.xlsx",
                                               params={"month": "2026-11", "city": "평택시"}).content))
    by_key = dict(zip([k for k, *_ in ROWS], [row[2] for row in book["센터 보고서"].iter_rows(min_row=3, values_only=True)]))
    for key, value in shown.items():
        assert (value == "—" and by_key[key] is None) or float(value) == float(by_key[key]), key
    reasons = {row[0]: row[1] for row in book["미연계 사유"].iter_rows(min_row=2, values_only=True)}
    assert sum(reasons.values()) == int(shown["unmatched"])
