"""Templates: every kind fits its segment budget in both languages with the longest realistic values;
offers carry no names, addresses or health notes; inbound replies are classified."""

import pytest

from hotline.sms.segments import segments
from hotline.sms.replies import Reply, ReplyKind, parse_reply
from hotline.sms.templates import (
    BUDGETS,
    LANGS,
    TEMPLATES,
    children_text,
    fields,
    named_children_text,
    needs_text,
    offer_choices,
    render,
)

URL = "https://dolbom.gg.go.kr/o/7Hq2Xk9PzR4mWc8Tn3a"  # 45 characters
CHILDREN = [("민준", 1), ("서연", 3), ("지우", 5), ("하은", 7), ("도윤", 12)]
GUARDIAN = "남궁민지"
ADDRESS = "경기도 성남시 분당구 정자일로 123, 파크뷰아파트 101동 1001호"
WINDOWS = {
    "ko": ["11/24(화) 09:00–18:00", "11/24(화) 22:00–11/25 06:00"],
    "en": ["Tue 11/24 09:00–18:00", "Tue 11/24 22:00–11/25 06:00"],
}
DISTRICTS = {"ko": ["비전동", "분당구 정자1동"], "en": ["분당구 정자1동", "Bundang-gu Jeongja 1-dong"]}


def longest_values(lang: str, window: str, district: str) -> dict[str, str]:
    return {
        "status_url": URL,
        "offer_url": URL,
        "window": window,
        "start": window.split("–")[0],
        "children": children_text([age for _, age in CHILDREN], lang),
        "needs": needs_text(["infant", "special_needs"], lang),
        "district": district,
        "expires": "22:10",
        "guardian": GUARDIAN,
        "guardian_phone": "010-1234-5678",
        "address": ADDRESS,
        "code": "4821",
        "otp": "930571",  # an online application's one-time code
        "workspace_url": "https://dolbom.gg.go.kr/p/1234.t9zk3c.AbCdEfGhIjKl",  # a provider's workspace link
        "reply": "Z9",  # an offer's reply code
        "choices": offer_choices([(f"Z{i}", "11/24 22:00") for i in range(1, 9)]),
        "provider": "성남 분당 다함께돌봄센터 정자1호점",
        "provider_phone": "031-123-4567",
        "ref": "R-20261124-0042",
        "reason": "3회 제안 모두 응답 없음" if lang == "ko" else "no reply to 3 offer rounds",
    }


CASES = [
    (kind, lang, window, district)
    for kind in TEMPLATES
    for lang in LANGS
    for window in WINDOWS[lang]
    for district in DISTRICTS[lang]
]


@pytest.mark.parametrize(("kind", "lang", "window", "district"), CASES)
def test_every_template_fits_its_budget(kind, lang, window, district):
    values = longest_values(lang, window, district)
    if kind == "offer_details":
        values["children"] = named_children_text(CHILDREN, lang)
    text = render(kind, lang, **{name: values[name] for name in fields(kind)})
    assert segments(text).segments <= BUDGETS[kind], text
    assert "{" not in text and "}" not in text


def test_every_kind_has_both_languages_and_a_budget():
    assert set(TEMPLATES) == set(BUDGETS)
    for kind, wordings in TEMPLATES.items():
        assert set(wordings) == set(LANGS), kind
        assert 1 <= BUDGETS[kind] <= 3


def test_common_offer_gets_the_full_wording():
    values = dict(
        window="11/24(화) 09:00–18:00", district="비전동", children=children_text([5, 9], "ko"),
        needs=needs_text([], "ko"), offer_url=URL, expires="09:10",
    )
    text = render("offer", "ko", reply="A7", **values)
    assert text == (f"[돌봄요청 A7] 11/24(화) 09:00–18:00 비전동 아동 2명(5·9세)\n"
                    f"수락 '1 A7', 거절 '2 A7' 회신(09:10까지) {URL}")
    assert parse_reply("1 A7") == Reply(ReplyKind.NUMBER, 1, "A7")  # what the text asks for parses back
    en = render("offer", "en", reply="A7", **{**values, "district": "Bijeon-dong", "window": "Tue 11/24 09:00–18:00",
                                              "children": children_text([5, 9], "en"), "needs": needs_text(["infant"], "en")})
    assert en.startswith("[Dolbom A7] Care request Tue 11/24 09:00-18:00, Bijeon-dong: 2 kids (5,9y), infant.")
    assert URL in en and "'1 A7' to accept" in en
    assert segments(en).encoding == "GSM-7"
    plain = render("offer_plain", "ko", **values)  # the "rounds" policy's offer: a bare 1/2 answers it
    assert plain == f"[돌봄요청] 11/24(화) 09:00–18:00 비전동 아동 2명(5·9세)\n수락 1, 거절 2 회신(09:10까지) {URL}"


@pytest.mark.parametrize("text", ["1 A7", "1A7", "a7 1", "수락 A7", "yes a7", "Ａ７　１", "1 a7."])
def test_an_accept_naming_its_offer(text):
    reply = parse_reply(text)
    assert reply.offer_answer() == ReplyKind.ACCEPT and reply.code == "A7"


@pytest.mark.parametrize("text", ["2 B3", "거절 b3", "b3 no"])
def test_a_decline_naming_its_offer(text):
    reply = parse_reply(text)
    assert reply.offer_answer() == ReplyKind.DECLINE and reply.code == "B3"


@pytest.mark.parametrize("text", ["A7", "7 A7", "취소 A7", "1 A0", "1 AA7"])
def test_a_code_without_a_clear_answer_is_not_an_answer(text):
    assert parse_reply(text).offer_answer() is None


def test_english_folds_typographic_punctuation_to_gsm():
    text = render("cancel_ack", "en", window="Tue 11/24 09:00–18:00")
    assert "09:00-18:00" in text
    assert segments(text).encoding == "GSM-7"


def test_offer_carries_no_names_address_or_health():
    assert fields("offer") == {"window", "district", "children", "needs", "offer_url", "expires", "reply"}
    assert fields("offer_plain") == fields("offer") - {"reply"}
    for kind in ("offer", "offer_plain"):
        text = render(kind, "ko", **{name: longest_values("ko", WINDOWS["ko"][0], "비전동")[name] for name in fields(kind)})
        for name, _ in CHILDREN:
            assert name not in text
        assert GUARDIAN not in text and "정자일로" not in text and "010-" not in text
    for kind in ("offer", "offer_plain", "offer_withdrawn", "already_filled", "which_offer"):
        assert not fields(kind) & {"guardian", "guardian_phone", "address", "provider", "health_notes"}


@pytest.mark.parametrize("kind", sorted(TEMPLATES))
def test_no_template_takes_health_notes(kind):
    assert not any("health" in name or "allerg" in name for name in fields(kind))
    values = {name: "x" for name in fields(kind)}
    with pytest.raises(TypeError, match="health_notes"):
        render(kind, "ko", health_notes="땅콩 알레르기", **values)


def test_render_refuses_unknown_and_missing_values():
    with pytest.raises(TypeError, match="unexpected"):
        render("survey", "ko", name="민준")
    with pytest.raises(TypeError, match="missing"):
        render("cancel_ack", "ko")
    with pytest.raises(KeyError):
        render("no_such_kind", "ko")


def test_unknown_language_falls_back_to_korean():
    assert render("survey_thanks", "fr") == render("survey_thanks", "ko")
    assert render("survey_thanks", None).startswith("[언제나돌봄]")


def test_needs_are_codes_never_free_text():
    assert needs_text(["infant", "special_needs"], "ko") == "영아·특수"
    assert needs_text(["special_needs"], "en") == "special needs"
    with pytest.raises(ValueError):
        needs_text(["천식, 흡입기 필요"], "ko")


def test_children_summaries():
    assert children_text([5, 9], "ko") == "2명(5·9세)"
    assert children_text([4], "en") == "1 child (4y)"
    assert named_children_text([("민준", 5)], "ko") == "민준(5세)"


def test_values_cannot_inject_line_breaks():
    text = render("escalation_operator", "en", ref="R-1", reason="a\n\nb")
    assert "a b" in text


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("수락", Reply(ReplyKind.ACCEPT)),
        (" yes ", Reply(ReplyKind.ACCEPT)),
        ("Y", Reply(ReplyKind.ACCEPT)),
        ("예", Reply(ReplyKind.ACCEPT)),
        ("ＹＥＳ", Reply(ReplyKind.ACCEPT)),
        ("수 락!", Reply(ReplyKind.ACCEPT)),
        ("거절", Reply(ReplyKind.DECLINE)),
        ("No.", Reply(ReplyKind.DECLINE)),
        ("n", Reply(ReplyKind.DECLINE)),
        ("아니오", Reply(ReplyKind.DECLINE)),
        ("취소", Reply(ReplyKind.CANCEL)),
        ("cancel", Reply(ReplyKind.CANCEL)),
        ("STOP", Reply(ReplyKind.STOP)),
        ("stopall", Reply(ReplyKind.STOP)),
        ("Unsubscribe", Reply(ReplyKind.STOP)),
        ("수신거부", Reply(ReplyKind.STOP)),
        ("START", Reply(ReplyKind.START)),
        ("unstop", Reply(ReplyKind.START)),
        ("수신재개", Reply(ReplyKind.START)),
        ("HELP", Reply(ReplyKind.HELP)),
        ("도움말", Reply(ReplyKind.HELP)),
        ("1", Reply(ReplyKind.NUMBER, 1)),
        ("１", Reply(ReplyKind.NUMBER, 1)),
        (" 2 ", Reply(ReplyKind.NUMBER, 2)),
        ("5.", Reply(ReplyKind.NUMBER, 5)),
        ("6", Reply(ReplyKind.UNKNOWN)),
        ("0", Reply(ReplyKind.UNKNOWN)),
        ("١", Reply(ReplyKind.UNKNOWN)),
        ("", Reply(ReplyKind.UNKNOWN)),
        ("언제 오시나요?", Reply(ReplyKind.UNKNOWN)),
    ],
)
def test_parse_reply(body, expected):
    assert parse_reply(body) == expected


def test_offer_answer_reads_numbers_in_offer_context():
    assert parse_reply("1").offer_answer() is ReplyKind.ACCEPT
    assert parse_reply("２").offer_answer() is ReplyKind.DECLINE
    assert parse_reply("수락").offer_answer() is ReplyKind.ACCEPT
    assert parse_reply("3").offer_answer() is None
    assert parse_reply("STOP").offer_answer() is None
