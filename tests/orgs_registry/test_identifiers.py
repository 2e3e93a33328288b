"""USCC validation (GB 32100-2015), as far as the foundation uses it."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orgs_registry.identifiers import (
    USCC_ALPHABET,
    make_uscc,
    normalize_code,
    uscc_kind,
    uscc_region,
    validate_uscc,
)

PUBLISHED = ["53100000500019795A", "91350100M000100Y43"]


@pytest.mark.parametrize("code", PUBLISHED)
def test_published_codes_are_valid(code):
    assert validate_uscc(code) == code


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("  53100000500019795a ", "53100000500019795A"),
        ("5310 0000 5000 1979 5A", "53100000500019795A"),
        ("５３１０００００５０００１９７９５Ａ", "53100000500019795A"),
        ("53100000500019795A\u3000", "53100000500019795A"),
    ],
)
def test_case_spaces_and_full_width_characters_are_normalized(raw, normalized):
    assert validate_uscc(raw) == normalized


@pytest.mark.parametrize(
    ("code", "rule"),
    [
        ("", "USCC is empty"),
        ("53100000500019795", "18 characters, not 17"),
        ("53100000500019795AA", "18 characters, not 19"),
        ("53100000500019I95A", "outside the GB 32100 alphabet: I"),
        ("C3100000500019795A", "position 1 'C' is not a registration authority"),
        ("57100000500019795A", "position 2 '7' is not an organization category"),
        ("531000A0500019795A", "positions 3-8 must be a six-digit"),
        ("53100000500019796A", "check character (position 17) is '6', expected '5'"),
        ("53100000500019795B", "check character (position 18) is 'B', expected 'A'"),
    ],
)
def test_each_failed_rule_has_its_own_message(code, rule):
    with pytest.raises(ValueError, match=re.escape(rule)):
        validate_uscc(code)


def test_kind_and_region_come_from_the_code():
    assert uscc_kind("53100000500019795A") == "foundation"
    assert uscc_kind(make_uscc(authority="5", category="1", region="500103", org_body="1234567A"))
    assert uscc_kind("91350100M000100Y43") == "other"
    assert uscc_region("91350100M000100Y43") == "350100"


@pytest.mark.parametrize(
    ("category", "kind"),
    [("1", "social_group"), ("2", "social_service_agency"), ("3", "foundation"), ("9", "other")],
)
def test_civil_affairs_categories_map_to_kinds(category, kind):
    code = make_uscc(authority="5", category=category, region="500103", org_body="50310001")
    assert uscc_kind(validate_uscc(code)) == kind


body = st.text(alphabet=USCC_ALPHABET, min_size=8, max_size=8)
region = st.from_regex(r"[0-9]{6}", fullmatch=True)


@given(body=body, region=region, category=st.sampled_from("1239"))
def test_generated_codes_validate_and_any_single_change_is_caught(body, region, category):
    code = make_uscc(authority="5", category=category, region=region, org_body=body)
    assert validate_uscc(code) == code
    for position in (8, 12, 17):
        replacement = USCC_ALPHABET[(USCC_ALPHABET.index(code[position]) + 1) % 31]
        changed = code[:position] + replacement + code[position + 1 :]
        with pytest.raises(ValueError, match="check character"):
            validate_uscc(changed)


def test_normalize_code_leaves_an_empty_value_empty():
    assert normalize_code("") == ""
    assert normalize_code(None) == ""  # type: ignore[arg-type]
