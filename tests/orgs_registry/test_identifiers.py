"""Identifiers: USCC (GB 32100-2015), ID numbers (GB 11643-1999) and phone numbers."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orgs_registry.identifiers import (
    USCC_ALPHABET,
    id_birth_date,
    id_check_char,
    id_region,
    id_sex,
    make_id_number,
    make_uscc,
    mask_id_number,
    mask_phone,
    normalize_code,
    uscc_kind,
    uscc_region,
    validate_id_number,
    validate_phone,
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


# --- Citizen identity numbers (GB 11643-1999) ------------------------------------------------

# The worked example of GB 11643-1999 and its 15-digit legacy form.
GB_EXAMPLE = "11010519491231002X"


def test_the_standards_example_is_valid():
    assert validate_id_number(GB_EXAMPLE) == GB_EXAMPLE
    assert id_check_char(GB_EXAMPLE[:17]) == "X"
    assert id_birth_date(GB_EXAMPLE) == date(1949, 12, 31)
    assert id_sex(GB_EXAMPLE) == "female"
    assert id_region(GB_EXAMPLE) == "110105"


def test_a_15_digit_legacy_number_is_converted():
    assert validate_id_number("110105491231002") == GB_EXAMPLE


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("11010519491231002x", GB_EXAMPLE),
        (" 110105 19491231 002X ", GB_EXAMPLE),
        ("１１０１０５１９４９１２３１００２Ｘ", GB_EXAMPLE),
    ],
)
def test_id_numbers_are_normalized(raw, normalized):
    assert validate_id_number(raw) == normalized


@pytest.mark.parametrize(
    ("number", "rule"),
    [
        ("", "ID number is empty"),
        ("1101051949123100", "18 characters (or 15 for a legacy number), not 16"),
        ("11010519491231002XX", "not 19"),
        ("1101054912310A2", "15-digit legacy ID number must be all digits"),
        ("1101051949123A002X", "positions 1-17 must be digits"),
        ("11010519491231002Y", "position 18 must be a digit or X"),
        ("99010519491231002X", "positions 1-2 '99' are not a province code"),
        ("110105194902300021", "birth date 19490230 is not a real date"),
        ("110105189912310020", "birth date 18991231 is before 1900"),
        ("110105209912310020", "birth date 20991231 is in the future"),
        ("110105194912310021", "check character (position 18) is '1', expected 'X'"),
    ],
)
def test_each_failed_id_rule_has_its_own_message(number, rule):
    with pytest.raises(ValueError, match=re.escape(rule)):
        validate_id_number(number, today=date(2026, 11, 25))


def test_a_15_digit_number_with_an_impossible_date_is_refused():
    with pytest.raises(ValueError, match="19490230 is not a real date"):
        validate_id_number("110105490230002")


@given(
    born=st.dates(min_value=date(1920, 1, 1), max_value=date(2010, 12, 31)),
    sequence=st.integers(min_value=0, max_value=999),
    male=st.booleans(),
    region=st.sampled_from(["500103", "500112", "510104", "110105", "440305"]),
)
def test_generated_numbers_validate_and_carry_their_facts(born, sequence, male, region):
    number = make_id_number(region=region, born=born, sequence=sequence, male=male)
    assert validate_id_number(number) == number
    assert id_birth_date(number) == born
    assert id_sex(number) == ("male" if male else "female")


@given(
    born=st.dates(min_value=date(1920, 1, 1), max_value=date(1999, 12, 31)),
    sequence=st.integers(min_value=0, max_value=999),
    position=st.integers(min_value=0, max_value=16),
    delta=st.integers(min_value=1, max_value=9),
)
def test_a_single_wrong_digit_is_always_caught(born, sequence, position, delta):
    number = make_id_number(region="500103", born=born, sequence=sequence, male=True)
    wrong = number[:position] + str((int(number[position]) + delta) % 10) + number[position + 1 :]
    with pytest.raises(ValueError, match="ID number"):
        validate_id_number(wrong)


@given(
    born=st.dates(min_value=date(1920, 1, 1), max_value=date(1999, 12, 31)),
    sequence=st.integers(min_value=0, max_value=999),
    position=st.integers(min_value=0, max_value=15),
)
def test_swapping_two_different_neighbouring_digits_is_caught(born, sequence, position):
    number = make_id_number(region="500103", born=born, sequence=sequence, male=False)
    a, b = number[position], number[position + 1]
    if a == b:
        return  # the swap changes nothing
    swapped = number[:position] + b + a + number[position + 2 :]
    with pytest.raises(ValueError, match="ID number"):
        validate_id_number(swapped)


def test_masking_shows_four_and_four():
    assert mask_id_number(GB_EXAMPLE) == "1101**********002X"
    assert mask_phone("13800138000") == "138****8000"
    assert mask_phone("023-63891234") == "023****1234"


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("13800138000", "13800138000"),
        ("138 0013 8000", "13800138000"),
        ("+86 138-0013-8000".replace("-", ""), "13800138000"),
        ("023-63891234", "023-63891234"),
        ("(023)63891234", "02363891234"),
    ],
)
def test_phone_numbers_are_normalized(raw, normalized):
    assert validate_phone(raw) == normalized


@pytest.mark.parametrize("raw", ["12345", "12800138000", "abc", "023-123"])
def test_bad_phone_numbers_are_refused(raw):
    with pytest.raises(ValueError, match="phone number must be"):
        validate_phone(raw)
