"""Place lookup by name prefix, as an operator types it."""

import pytest

from hotline.core.config import REPO_ROOT
from hotline.places.geo import load_places


@pytest.fixture(scope="module")
def table():
    return load_places(REPO_ROOT / "data")


@pytest.mark.parametrize("query,code", [
    ("평택", "pyeongtaek"),
    ("평택시", "pyeongtaek"),
    ("평택시 비전동", "pyeongtaek.bijeon-dong"),
    ("평택시  비전동 123-4", "pyeongtaek.bijeon-dong"),
    ("평택 비전동", "pyeongtaek.bijeon-dong"),
    ("평택시 없는동", "pyeongtaek"),
    ("수원시 영통구 매탄동", "suwon.yeongtong-gu"),
    ("pyeongtaek.bijeon-dong", "pyeongtaek.bijeon-dong"),
    ("연천군", "yeoncheon"),
])
def test_lookup(table, query, code):
    place = table.lookup(query)
    assert place is not None and place.code == code


@pytest.mark.parametrize("query", ["", "서울특별시 강남구", "아틀란티스"])
def test_unknown(table, query):
    assert table.lookup(query) is None


def test_all_31_cities_and_counties(table):
    assert len([p for p in table.places if p.level in ("city", "county")]) == 31
