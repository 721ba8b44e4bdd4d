"""Phone numbers: E.164 storage and the one masking rule."""

import pytest

from hotline.core.errors import InvalidInput
from hotline.privacy.masking import mask
from hotline.core.phones import national, to_e164


@pytest.mark.parametrize("raw", ["010-1234-5678", "01012345678", "+82 10 1234 5678", "010 1234 5678"])
def test_korean_mobiles_become_e164(raw):
    assert to_e164(raw) == "+821012345678"


@pytest.mark.parametrize("raw", ["010-12", "hello", "", "02-123"])
def test_invalid_numbers_name_the_field(raw):
    with pytest.raises(InvalidInput) as err:
        to_e164(raw, "guardian.phone")
    assert err.value.errors[0].field == "guardian.phone"


def test_one_masking_rule():
    assert mask("+821012345678") == "010-****-5678"
    assert mask("010-1234-5678") == "010-****-5678"
    assert national("+821012345678") == "010-1234-5678"
