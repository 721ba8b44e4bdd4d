"""Issue 21: names and labels put into Korean sentences take the particle their last syllable asks for
("김하늘이", "이하나가"), never the unfinished "을(를)" form; and an initial-consonant query ('ㄱㅎㄴ') finds
김하늘 (hotline.core.korean, on the `hangeul` package)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hotline.core.errors import InvalidInput, NotFound
from hotline.core.korean import initials, is_initials_query, matches_initials, quoted_with_particle, with_particle
from hotline.core.phones import to_e164
from hotline.core.text import whole_number
from hotline.models.requests import RequestStatus
from hotline.requests.lifecycle import IllegalTransition

ROOT = Path(__file__).resolve().parent.parent
UNFINISHED = re.compile(r"\((?:을|를|이|가|은|는|와|과|으)\)")


@pytest.mark.parametrize("word, pair, expected", [
    ("김하늘", "이/가", "김하늘이"), ("이하나", "이/가", "이하나가"),
    ("김하늘", "을/를", "김하늘을"), ("이하나", "을/를", "이하나를"),
    ("박서준", "은/는", "박서준은"), ("서윤", "와/과", "서윤과"), ("도하", "와/과", "도하와"),
    ("서울", "으로/로", "서울로"),  # ㄹ takes 로
    ("확정", "으로/로", "확정으로"), ("제공 완료", "으로/로", "제공 완료로"),
    ("17:00", "으로/로", "17:00으로"),  # 영 → 으로
    ("A7", "을/를", "A7을"),  # 칠
    ("SMS", "이/가", "SMS가"),  # 에스
    ("가평군", "이/가", "가평군이"), ("평택시", "이/가", "평택시가"),
])
def test_the_particle_follows_the_last_syllable(word, pair, expected):
    assert with_particle(word, pair) == expected


def test_quotes_around_a_label_do_not_change_its_particle():
    assert quoted_with_particle("확정", "으로/로") == "'확정'으로"
    assert quoted_with_particle("010-12", "이/가") == "'010-12'가"
    assert with_particle("'미제공'", "으로/로") == "'미제공'으로"
    assert with_particle("", "이/가") == ""


def test_initial_consonant_search():
    assert initials("김하늘") == "ㄱㅎㄴ"
    assert matches_initials("김하늘", "ㄱㅎㄴ") and matches_initials("김하늘", "ㅎㄴ")
    assert matches_initials("김 하늘", "ㄱㅎㄴ")  # spaces in the name are not letters
    assert not matches_initials("최유나", "ㄱㅎㄴ")
    assert not matches_initials("김하늘", "ㄱ")  # one letter finds half the province: not an initials query
    assert not is_initials_query("김하") and not is_initials_query("4444") and is_initials_query("ㅊ ㅇ")


def test_messages_read_as_finished_korean():
    assert NotFound("돌봄 요청", "Care request").detail_ko == "돌봄 요청을 찾을 수 없습니다."
    assert NotFound("기관", "Provider").detail_ko == "기관을 찾을 수 없습니다."
    with pytest.raises(InvalidInput) as bad_phone:
        to_e164("010-12")
    assert "전화번호 '010-12'가 올바르지 않습니다" in bad_phone.value.errors[0].message_ko
    with pytest.raises(InvalidInput) as bad_number:
        whole_number("x", "minutes", what_ko="조정 시간(분)")
    assert bad_number.value.errors[0].message_ko.startswith("조정 시간(분)은 0-9 숫자로만")
    moved = IllegalTransition(RequestStatus.completed, RequestStatus.confirmed)
    assert "'확정'으로 바꿀 수 없습니다" in moved.detail_ko


def test_no_unfinished_particle_is_left_in_the_code_and_templates():
    found = []
    for folder in ("hotline", "api"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in (".py", ".html", ".js") and path.name != "korean.py":
                for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                    if UNFINISHED.search(line) and "reads badly" not in line:
                        found.append(f"{path.relative_to(ROOT)}:{n}")
    assert found == []


def _marked_english(html: str) -> list[str]:
    return re.findall(r'lang="en"[^>]*>([^<]*)', html)


def test_the_centre_report_and_the_workspace_speak_the_readers_language(client, app, engine, clock, operator, demo):
    """The centre report's 16 figures and the provider's pages carry no English beside the Korean; a provider
    whose language is English gets its workspace in English (issue 21)."""
    from sqlmodel import Session

    from hotline.models import Provider
    from test_console import sign_in
    from test_records import placed

    ref, _, assignment, home = placed(client, app, engine, clock, operator)
    sign_in(client, engine)
    report = client.get("/console/centre-report?month=2026-11&city=평택시").text
    assert _marked_english(report) == [] and "Registered providers" not in report and "Centre report" not in report
    assert report.count('<th scope="row">') >= 16
    for path in (home, f"{home}/r/{ref}"):
        page = client.get(path).text
        assert '<html lang="ko">' in page and _marked_english(page) == [], path
        assert not {"Shift", "Check in", "Check out", "Daily log", "Opening days"} & set(re.findall(r">([A-Z][a-z ]+)<", page))
    with Session(engine) as s:
        provider = s.get(Provider, assignment.provider_id)
        provider.language = "en"
        s.add(provider)
        s.commit()
    english = client.get(f"{home}/r/{ref}").text
    assert '<html lang="en">' in english and "Check in" in english and "입실" not in english
