"""CSV and XLSX of the centre report: the same rows as the page (figures.rows), one sheet for the centre,
one for the province roll-up, one for the reasons of non-placement."""

from __future__ import annotations

import csv
import io

from hotline.centre_report.figures import PROVINCE, ROWS, CentreFigures, rows


def _cell(value):
    return "" if value is None else value


def to_csv(fig: CentreFigures, report: dict[str, CentreFigures]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["항목", "item", fig.city])
    for _, ko, en, value in rows(fig):
        writer.writerow([ko, en, _cell(value)])
    writer.writerow([])
    writer.writerow(["미연계 사유", "reason not placed", "건수"])
    for reason, n in fig.reasons:
        writer.writerow([reason, "", n])
    writer.writerow([])
    writer.writerow(["시·군", "city"] + [ko for _, ko, _ in ROWS])
    for city in _rollup_order(report):
        writer.writerow([city, ""] + [_cell(v) for *_, v in rows(report[city])])
    return "\ufeff" + out.getvalue()  # BOM: Excel opens Korean CSV as UTF-8


def _rollup_order(report: dict[str, CentreFigures]) -> list[str]:
    return [c for c in report if c != PROVINCE] + [PROVINCE]


def to_xlsx(fig: CentreFigures, report: dict[str, CentreFigures]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "센터 보고서"
    sheet.append([f"언제나 돌봄 센터 보고서 {fig.month} · {fig.city}"])
    sheet["A1"].font = Font(bold=True)
    sheet.append(["항목", "item", "값"])
    for _, ko, en, value in rows(fig):
        sheet.append([ko, en, value])
    sheet.column_dimensions["A"].width = 24
    sheet.column_dimensions["B"].width = 32
    reasons = book.create_sheet("미연계 사유")
    reasons.append(["사유", "건수"])
    for reason, n in fig.reasons:
        reasons.append([reason, n])
    rollup = book.create_sheet("도 종합")
    rollup.append(["시·군"] + [ko for _, ko, _ in ROWS])
    for city in _rollup_order(report):
        rollup.append([city] + [v for *_, v in rows(report[city])])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
