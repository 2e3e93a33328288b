"""evaluation.linkage: record linkage of people across tables (CONTRACTS.md section 2).

Pure tests, no database. The models for the two field layouts used here are trained once
per test process (cached in memory), so each test links small frames.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest

from evaluation import linkage_model
from evaluation.linkage import (
    OUTPUT_COLUMNS,
    evidence_json,
    feature_directions,
    id_regions,
    link,
    link_chunked,
    region_chunks,
)
from orgs_registry.identifiers import make_id_number, validate_id_number

CN_SPEC: dict[str, Any] = {
    "left_id": "person_id",
    "right_id": "staff_id",
    "fields": {"id_number": "id_number", "name": "person_name", "phone": "phone"},
}
LATIN_SPEC = {
    "left_id": "rec_id",
    "right_id": "rec_id",
    "fields": {
        "given_name": "name",
        "surname": "name",
        "date_of_birth": "date",
        "soc_sec_id": "id_number",
        "address_1": "text",
        "postcode": "exact",
    },
}
# The layout of the double-funding screens (evaluation.integrity.PERSON_SPEC), at their
# threshold: a pair below it raises no flag.
PERSON_SPEC: dict[str, Any] = {
    "left_id": "person_id",
    "right_id": "staff_id",
    "fields": {"name": "person_name", "id_number": "id_number", "birth_date": "date"},
    "min_probability": 0.8,
}
LAYOUTS = {"cn": CN_SPEC | {"min_probability": 0.8}, "person": PERSON_SPEC}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛"]


def roster_row(n: int) -> dict[str, object]:
    born = date(1960 + n % 40, 1 + n % 12, 1 + n % 28)
    return {
        "person_id": 1000 + n,
        "name": SURNAMES[n % len(SURNAMES)] + GIVEN[(n // 3) % len(GIVEN)],
        "id_number": make_id_number(
            region=("500103", "500105", "500106")[n % 3], born=born, sequence=n, male=n % 2 == 0
        ),
        "phone": f"138{n:08d}" if n % 2 else None,
        "birth_date": born,
    }


@pytest.fixture(scope="module")
def roster() -> pd.DataFrame:
    return pd.DataFrame([roster_row(n) for n in range(240)])


def staff(*rows: dict[str, object]) -> pd.DataFrame:
    records = []
    for index, row in enumerate(rows):
        records.append(
            {"staff_id": f"s{index}", "name": None, "id_number": None, "phone": None} | row
        )
    return pd.DataFrame(records, columns=["staff_id", "name", "id_number", "phone", "birth_date"])


def person(roster: pd.DataFrame, n: int) -> dict[str, object]:
    return roster.loc[roster["person_id"] == 1000 + n].iloc[0].to_dict()


def only_match(pairs: pd.DataFrame, staff_id: str) -> pd.Series:
    rows = pairs[pairs["right_id"] == staff_id]
    assert len(rows) == 1, rows
    return rows.iloc[0]


# --- error kinds of ID numbers ----------------------------------------------------------------


def test_an_id_number_with_one_wrong_digit_links_to_its_person(roster):
    p = person(roster, 17)
    number = str(p["id_number"])
    wrong = number[:15] + str((int(number[15]) + 3) % 10) + number[16:]
    pairs = link(roster, staff({"name": p["name"], "id_number": wrong}), CN_SPEC)
    match = only_match(pairs, "s0")
    assert match["left_id"] == p["person_id"]
    assert match["evidence"]["id_number"] == "one_digit"
    assert match["probability"] >= 0.5


def test_an_id_number_with_two_swapped_digits_links_to_its_person(roster):
    p = person(roster, 23)
    number = str(p["id_number"])
    i = next(i for i in range(6, 16) if number[i] != number[i + 1])
    swapped = number[:i] + number[i + 1] + number[i] + number[i + 2 :]
    pairs = link(roster, staff({"name": p["name"], "id_number": swapped}), CN_SPEC)
    match = only_match(pairs, "s0")
    assert match["left_id"] == p["person_id"]
    assert match["evidence"]["id_number"] == "transposition"


def test_a_legacy_15_digit_number_links_to_the_18_digit_one(roster):
    p = person(roster, 31)
    number = str(p["id_number"])
    legacy = number[:6] + number[8:17]
    assert validate_id_number(legacy) == number  # the same person in the old form
    pairs = link(roster, staff({"name": p["name"], "id_number": legacy}), CN_SPEC)
    match = only_match(pairs, "s0")
    assert match["left_id"] == p["person_id"]
    assert match["evidence"]["id_number"] == "legacy_15"


def test_a_number_without_its_check_digit_links_to_the_full_number(roster):
    p = person(roster, 40)
    pairs = link(roster, staff({"name": p["name"], "id_number": str(p["id_number"])[:17]}), CN_SPEC)
    match = only_match(pairs, "s0")
    assert match["left_id"] == p["person_id"]
    assert match["evidence"]["id_number"] == "missing_check_digit"


def test_full_width_characters_and_spaces_are_the_same_number_and_name(roster):
    p = person(roster, 52)
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in str(p["id_number"]))
    name = str(p["name"])
    pairs = link(
        roster,
        staff({"name": name[0] + "\u3000" + name[1:], "id_number": " " + full_width + " "}),
        CN_SPEC,
    )
    match = only_match(pairs, "s0")
    assert match["left_id"] == p["person_id"]
    assert match["evidence"] == {"id_number": "exact", "name": "exact", "phone": "missing"}


# --- names ------------------------------------------------------------------------------------


def test_a_homophone_of_the_name_links_with_the_number(roster):
    p = person(roster, 2)
    assert p["name"] == "张伟"
    pairs = link(
        roster,
        staff({"name": "章" + str(p["name"])[1:], "id_number": str(p["id_number"])[:17]}),
        CN_SPEC,
    )
    match = only_match(pairs, "s0")
    assert match["left_id"] == p["person_id"]
    assert match["evidence"]["name"] == "homophone"


@pytest.mark.parametrize("written", ["Zhang Wei", "WEI Zhang", "zhangwei"])
def test_a_name_spelled_in_pinyin_links_to_the_chinese_characters(roster, written):
    p = person(roster, 2)  # 张伟, without a phone (even row): given one on both sides
    assert p["name"] == "张伟"
    left = roster.copy()
    left.loc[left["person_id"] == p["person_id"], "phone"] = "13912345678"
    pairs = link(left, staff({"name": written, "phone": "139 1234 5678"}), CN_SPEC)
    match = only_match(pairs, "s0")
    assert match["left_id"] == p["person_id"]
    assert match["evidence"]["name"] in {"pinyin", "reordered"}
    assert match["evidence"]["id_number"] == "missing"


def test_a_typing_error_in_a_latin_name_still_links():
    left = pd.DataFrame(
        [
            {"rec_id": "a", "given_name": "jonathan", "surname": "mcdonald",
             "date_of_birth": "19710304", "soc_sec_id": "5512093",
             "address_1": "12 banksia street", "postcode": "2615"},
            {"rec_id": "b", "given_name": "emily", "surname": "nguyen",
             "date_of_birth": "19881122", "soc_sec_id": "7731208",
             "address_1": "4 kent road", "postcode": "3000"},
        ]
    )  # fmt: skip
    right = pd.DataFrame(
        [
            {"rec_id": "x", "given_name": "jonathon", "surname": "mcdonlad",
             "date_of_birth": "19710304", "soc_sec_id": "5512093",
             "address_1": "12 banksia st", "postcode": "2615"},
        ]
    )  # fmt: skip
    pairs = link(left, right, LATIN_SPEC)
    assert list(zip(pairs["left_id"], pairs["right_id"], strict=True)) == [("a", "x")]
    evidence = pairs.iloc[0]["evidence"]
    assert evidence["given_name"] == "similar"
    assert evidence["surname"] == "similar"
    assert evidence["date_of_birth"] == "exact"


def test_day_and_month_swapped_in_a_date_is_named_in_the_evidence():
    left = pd.DataFrame(
        [{"rec_id": "a", "given_name": "kate", "surname": "brown", "date_of_birth": "1990-04-07",
          "soc_sec_id": "1234567", "address_1": "7 high street", "postcode": "2000"}]
    )  # fmt: skip
    right = pd.DataFrame(
        [{"rec_id": "x", "given_name": "kate", "surname": "brown", "date_of_birth": "19900704",
          "soc_sec_id": "1234567", "address_1": "7 high street", "postcode": "2000"}]
    )  # fmt: skip
    pairs = link(left, right, LATIN_SPEC)
    assert pairs.iloc[0]["evidence"]["date_of_birth"] == "day_month_swapped"


# --- two errors at once ----------------------------------------------------------------------
# Each error alone links; so must two in one record, in the layout of the bid staff against
# the roster (ID number, name, phone) and in that of the double-funding screens (name, ID
# number, birth date), at the screens' threshold of 0.8.


def one_wrong_digit(number: str, position: int) -> str:
    """``number`` with the digit at ``position`` (0-based) mistyped; +5 also flips the sex
    digit's parity at position 16, the case that used to miss."""
    return number[:position] + str((int(number[position]) + 5) % 10) + number[position + 1 :]


def swapped_digits(number: str, start: int) -> str:
    """``number`` with the first two differing neighbours from ``start`` on swapped."""
    i = next(i for i in range(start, 17) if number[i] != number[i + 1])
    return number[:i] + number[i + 1] + number[i] + number[i + 2 :]


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) for c in text)


def born_of(p: dict[str, object]) -> date:
    born = p["birth_date"]
    assert isinstance(born, date)
    return born


def record_of(p: dict[str, object], **written: object) -> dict[str, object]:
    """A bid-staff record of roster person ``p``: the birth date as on the roster unless
    ``written`` says otherwise, no phone."""
    return {"birth_date": p["birth_date"]} | written


def linked_to(pairs: pd.DataFrame, p: dict[str, object]) -> pd.Series:
    match = only_match(pairs, "s0")
    assert match["left_id"] == p["person_id"], pairs
    assert match["probability"] >= 0.8
    return match


@pytest.mark.parametrize("layout", ["cn", "person"])
@pytest.mark.parametrize("position", [2, 9, 13, 14, 15, 16])
def test_a_homophone_with_one_wrong_id_digit_links(roster, layout, position):
    p = person(roster, 2)
    assert p["name"] == "张伟"
    record = record_of(p, name="张玮", id_number=one_wrong_digit(str(p["id_number"]), position))
    match = linked_to(link(roster, staff(record), LAYOUTS[layout]), p)
    assert match["evidence"]["name"] == "homophone"
    assert match["evidence"]["id_number"] == "one_digit"


@pytest.mark.parametrize("layout", ["cn", "person"])
@pytest.mark.parametrize("start", [1, 7, 12, 15])
def test_a_homophone_with_two_swapped_id_digits_links(roster, layout, start):
    p = person(roster, 14)
    assert p["name"] == "胡静"
    record = record_of(p, name="胡靖", id_number=swapped_digits(str(p["id_number"]), start))
    match = linked_to(link(roster, staff(record), LAYOUTS[layout]), p)
    assert match["evidence"]["name"] == "homophone"
    assert match["evidence"]["id_number"] == "transposition"


@pytest.mark.parametrize("layout", ["cn", "person"])
def test_a_homophone_with_the_15_digit_legacy_number_links(roster, layout):
    p = person(roster, 2)
    number = str(p["id_number"])
    record = record_of(p, name="章伟", id_number=number[:6] + number[8:17])
    match = linked_to(link(roster, staff(record), LAYOUTS[layout]), p)
    assert match["evidence"]["name"] == "homophone"
    assert match["evidence"]["id_number"] == "legacy_15"


@pytest.mark.parametrize("layout", ["cn", "person"])
@pytest.mark.parametrize("position", [4, 11, 16])
def test_full_width_digits_with_one_wrong_digit_link(roster, layout, position):
    p = person(roster, 33)
    wrong = full_width(one_wrong_digit(str(p["id_number"]), position))
    match = linked_to(
        link(roster, staff(record_of(p, name=p["name"], id_number=wrong)), LAYOUTS[layout]), p
    )
    assert match["evidence"]["id_number"] == "one_digit"
    assert match["evidence"]["name"] == "exact"


@pytest.mark.parametrize("layout", ["cn", "person"])
@pytest.mark.parametrize("written", ["Zhang Wei", "WEI Zhang", "zhangwei"])
@pytest.mark.parametrize("position", [10, 16])
def test_a_pinyin_spelling_with_one_wrong_digit_links(roster, layout, written, position):
    p = person(roster, 2)
    record = record_of(p, name=written, id_number=one_wrong_digit(str(p["id_number"]), position))
    match = linked_to(link(roster, staff(record), LAYOUTS[layout]), p)
    assert match["evidence"]["name"] in {"pinyin", "reordered"}
    assert match["evidence"]["id_number"] == "one_digit"


@pytest.mark.parametrize("number_as", ["written", "without_check_digit"])
def test_a_missing_birth_date_with_a_homophone_links(roster, number_as):
    p = person(roster, 14)
    number = str(p["id_number"])
    written = number if number_as == "written" else number[:17]
    record = record_of(p, name="胡靖", id_number=written, birth_date=None)
    match = linked_to(link(roster, staff(record), PERSON_SPEC), p)
    assert match["evidence"]["name"] == "homophone"
    assert match["evidence"]["birth_date"] == "missing"


# --- missing values ---------------------------------------------------------------------------


def test_a_missing_id_number_links_by_name_and_phone(roster):
    p = person(roster, 11)
    assert p["phone"]
    pairs = link(roster, staff({"name": p["name"], "phone": p["phone"]}), CN_SPEC)
    match = only_match(pairs, "s0")
    assert match["left_id"] == p["person_id"]
    assert match["evidence"] == {"id_number": "missing", "name": "exact", "phone": "exact"}


def test_a_missing_name_links_by_the_id_number(roster):
    p = person(roster, 12)
    pairs = link(roster, staff({"id_number": p["id_number"]}), CN_SPEC)
    match = only_match(pairs, "s0")
    assert match["left_id"] == p["person_id"]
    assert match["evidence"]["name"] == "missing"


def test_a_record_with_every_field_missing_links_to_nobody(roster):
    pairs = link(roster, staff({}), CN_SPEC)
    assert pairs.empty


# --- near misses ------------------------------------------------------------------------------


def test_a_namesake_born_days_apart_in_the_same_district_is_not_linked(roster):
    p = person(roster, 7)
    number = str(p["id_number"])
    born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    other = make_id_number(
        region=number[:6], born=born.replace(day=born.day + 9), sequence=71, male=True
    )
    pairs = link(roster, staff({"name": p["name"], "id_number": other}), CN_SPEC)
    assert p["person_id"] not in set(pairs["left_id"])


def test_a_valid_number_one_digit_away_with_another_name_is_not_linked(roster):
    p = person(roster, 8)
    number = str(p["id_number"])
    first17 = number[:15] + str((int(number[15]) + 4) % 10) + number[16]
    other = make_id_number(
        region=first17[:6],
        born=date(int(first17[6:10]), int(first17[10:12]), int(first17[12:14])),
        sequence=int(first17[14:16]),
        male=int(first17[16]) % 2 == 1,
    )
    assert other != number
    pairs = link(roster, staff({"name": "欧阳明", "id_number": other}), CN_SPEC)
    assert p["person_id"] not in set(pairs["left_id"])


@pytest.mark.parametrize("layout", ["cn", "person"])
@pytest.mark.parametrize("days", [1, 9, 30])
@pytest.mark.parametrize("mistyped", [False, True])
def test_a_namesake_with_a_common_name_born_days_apart_is_not_linked(
    roster, layout, days, mistyped
):
    """Same name and district, born days apart: another person, even when his own number
    is written with a wrong digit."""
    p = person(roster, 0)
    assert p["name"] == "王伟"
    born = born_of(p) + timedelta(days=days)
    other = make_id_number(region=str(p["id_number"])[:6], born=born, sequence=58, male=True)
    if mistyped:
        other = one_wrong_digit(other, 3)
    record = {"name": "王伟", "id_number": other, "birth_date": born}
    pairs = link(roster, staff(record), LAYOUTS[layout] | {"min_probability": 0.5})
    assert p["person_id"] not in set(pairs["left_id"])


@pytest.mark.parametrize("layout", ["cn", "person"])
@pytest.mark.parametrize("mistyped", [False, True])
def test_a_namesake_born_the_same_day_elsewhere_is_not_linked(roster, layout, mistyped):
    """Same common name and birth date, an ID number that differs in many digits (another
    district, another sequence number): another person, mistyped or not."""
    p = person(roster, 0)
    number = str(p["id_number"])
    other = make_id_number(region="310115", born=born_of(p), sequence=63, male=False)
    assert sum(a != b for a, b in zip(number, other, strict=True)) >= 5
    if mistyped:
        other = one_wrong_digit(other, 15)
    record = {"name": "王伟", "id_number": other, "birth_date": born_of(p)}
    pairs = link(roster, staff(record), LAYOUTS[layout] | {"min_probability": 0.5})
    assert p["person_id"] not in set(pairs["left_id"])


def test_a_stranger_with_a_common_name_is_not_linked(roster):
    stranger = make_id_number(region="110101", born=date(2001, 6, 9), sequence=44, male=True)
    pairs = link(roster, staff({"name": "王伟", "id_number": stranger}), CN_SPEC)
    assert pairs.empty


# --- the contract -----------------------------------------------------------------------------


def test_the_output_has_the_contract_columns_ids_and_probabilities(roster):
    a, b = person(roster, 3), person(roster, 4)
    pairs = link(
        roster,
        staff({"name": a["name"], "id_number": a["id_number"]}, {"name": b["name"]}),
        CN_SPEC,
    )
    assert list(pairs.columns) == OUTPUT_COLUMNS
    assert set(pairs["right_id"]) <= {"s0", "s1"}
    assert set(pairs["left_id"]) <= set(roster["person_id"])
    assert pairs["probability"].between(0.5, 1.0).all()
    assert all(set(e) == {"id_number", "name", "phone"} for e in pairs["evidence"])
    assert (a["person_id"], "s0") in set(zip(pairs["left_id"], pairs["right_id"], strict=True))


def test_min_probability_sets_the_threshold(roster):
    p = person(roster, 14)
    number = str(p["id_number"])
    born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    # Same district and birthday, another person: a valid number of its own.
    namesake = make_id_number(region=number[:6], born=born, sequence=77, male=True)
    assert namesake[:14] == number[:14]
    assert namesake != number
    right = staff({"name": p["name"], "id_number": namesake}, {"id_number": number})
    everything = link(roster, right, CN_SPEC | {"min_probability": 0.0})
    assert not everything.empty
    assert (everything["probability"] < 0.5).any()
    strict = link(roster, right, CN_SPEC | {"min_probability": 0.99})
    assert (strict["probability"] >= 0.99).all()
    assert (p["person_id"], "s1") in set(zip(strict["left_id"], strict["right_id"], strict=True))
    assert len(strict) < len(everything)


def test_empty_inputs_give_an_empty_frame_with_the_columns(roster):
    empty = staff().iloc[0:0]
    for pairs in (link(roster, empty, CN_SPEC), link(roster.iloc[0:0], staff({}), CN_SPEC)):
        assert pairs.empty
        assert list(pairs.columns) == OUTPUT_COLUMNS


def test_linking_twice_gives_the_same_result(roster):
    p, q = person(roster, 20), person(roster, 21)
    right = staff(
        {"name": p["name"], "id_number": str(p["id_number"])[:17]},
        {"name": "Li " + "x", "id_number": q["id_number"]},
    )
    first = link(roster, right, CN_SPEC)
    second = link(roster, right, CN_SPEC)
    pd.testing.assert_frame_equal(first, second)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"left_id": "person_id", "right_id": "staff_id", "fields": {}}, "at least one"),
        (CN_SPEC | {"fields": {"name": "nickname"}}, "'name' has type 'nickname'"),
        (CN_SPEC | {"fields": {"age": "exact"}}, "'age' is not a column of the left"),
        (CN_SPEC | {"left_id": "pk"}, "left_id 'pk'"),
        (CN_SPEC | {"min_probability": 2}, "between 0 and 1"),
    ],
)
def test_a_bad_spec_is_refused_naming_the_problem(roster, spec, message):
    with pytest.raises(ValueError, match=message):
        link(roster, staff({}), spec)


def test_dedupe_gives_each_pair_once_and_never_a_row_with_itself():
    rows = pd.DataFrame(
        [
            {"rec_id": "a", "given_name": "sarah", "surname": "clarke", "date_of_birth": "19650212",
             "soc_sec_id": "3312077", "address_1": "9 mill road", "postcode": "2600"},
            {"rec_id": "b", "given_name": "sarah", "surname": "clark", "date_of_birth": "19650212",
             "soc_sec_id": "3312077", "address_1": "9 mill rd", "postcode": "2600"},
            {"rec_id": "c", "given_name": "tom", "surname": "baker", "date_of_birth": "19700101",
             "soc_sec_id": "9900112", "address_1": "1 lake drive", "postcode": "4000"},
        ]
    )  # fmt: skip
    pairs = link(rows, rows, LATIN_SPEC | {"dedupe": True})
    assert list(zip(pairs["left_id"], pairs["right_id"], strict=True)) == [("a", "b")]


def test_evidence_serializes_to_json_for_the_review_page():
    assert evidence_json({"name": "homophone", "id_number": "one_digit"}) == (
        '{"id_number": "one_digit", "name": "homophone"}'
    )


# --- chunks by region -------------------------------------------------------------------------


def test_id_regions_reads_the_region_code_or_nothing():
    regions = id_regions(pd.Series(["500103198001010011", "50010380010101", "abc", None]))
    assert regions.iloc[0] == "500103"
    assert pd.isna(regions.iloc[1])  # 14 characters: not an ID number
    assert pd.isna(regions.iloc[2])
    assert pd.isna(regions.iloc[3])


def test_region_chunks_split_the_roster_and_keep_records_without_a_region(roster):
    p = person(roster, 5)
    moved = person(roster, 6)
    number = str(moved["id_number"])
    right = staff(
        {"name": p["name"], "id_number": p["id_number"]},
        {"name": "无号码", "phone": "13800000001"},
        # The same number filed under another region's chunk is met by the exact-ID pass.
        {"name": moved["name"], "id_number": number},
    )
    chunks = list(region_chunks(roster, right, left_column="id_number", right_column="id_number"))
    regions = [c.region for c in chunks]
    assert regions[-1] == "exact_id"
    for chunk in chunks[:-1]:
        assert set(id_regions(roster.loc[chunk.left_index, "id_number"])) == {chunk.region}
        assert 1 in set(chunk.right_index)  # no ID number: in every chunk
    exact = chunks[-1]
    assert set(exact.right_index) == {0, 2}


def test_linking_chunk_by_chunk_finds_what_linking_at_once_finds(roster):
    p, q, r = person(roster, 9), person(roster, 10), person(roster, 13)
    right = staff(
        {"name": p["name"], "id_number": str(p["id_number"])[:17]},
        {"name": q["name"], "id_number": q["id_number"]},
        {"name": r["name"], "phone": r["phone"]},
    )
    at_once = link(roster, right, CN_SPEC)
    chunked = link_chunked(
        roster, right, CN_SPEC, left_column="id_number", right_column="id_number"
    )
    assert set(zip(at_once["left_id"], at_once["right_id"], strict=True)) == set(
        zip(chunked["left_id"], chunked["right_id"], strict=True)
    )


# --- the model --------------------------------------------------------------------------------

CN_LAYOUT = (("id_number", "id_number"), ("name", "person_name"), ("phone", "phone"))


def test_the_model_of_a_layout_is_trained_once_and_kept():
    first = linkage_model.model_for(CN_LAYOUT, ("cn", "cn", "phone"))
    assert linkage_model.model_for(CN_LAYOUT, ("cn", "cn", "phone")) is first


# Columns of the CN layout's feature matrix: the ID block comes first (12 columns), then
# the name block.
ID_HAMMING = 3
NAME_EXACT = 12 + 1


def test_generated_training_pairs_hold_matches_and_more_non_matches():
    matrix, labels = linkage_model.training_pairs(CN_LAYOUT, ("cn", "cn", "phone"))
    assert len(matrix) == len(labels) >= 1000
    assert 0.2 < labels.mean() < 0.8
    # Namesakes: the name agrees exactly on non-matches too.
    assert (matrix[labels == 0, NAME_EXACT] == 1).sum() >= 100


def test_generated_training_pairs_hold_matches_with_two_errors_at_once():
    """A wrong ID digit and a name written otherwise in one record: without such pairs the
    model ruled on them from the hard negatives around them."""
    matrix, labels = linkage_model.training_pairs(CN_LAYOUT, ("cn", "cn", "phone"))
    both_wrong = (matrix[:, ID_HAMMING] == 1) & (matrix[:, NAME_EXACT] == 0)
    assert (both_wrong & (labels == 1)).sum() >= 150


def test_the_id_distances_may_only_lower_the_probability():
    directions = feature_directions(CN_LAYOUT)
    assert directions[ID_HAMMING] == -1
    assert directions[NAME_EXACT] == 0
    matrix, _ = linkage_model.training_pairs(CN_LAYOUT, ("cn", "cn", "phone"))
    assert len(directions) == matrix.shape[1]


def test_probabilities_are_calibrated_on_fresh_generated_pairs():
    """Pairs drawn with another seed than the model's: in each tenth of the probability
    scale that holds enough pairs, the share of true matches is about the probability."""
    model = linkage_model.model_for(CN_LAYOUT, ("cn", "cn", "phone"))
    matrix, labels = linkage_model.training_pairs(CN_LAYOUT, ("cn", "cn", "phone"), seed=7)
    probability = model.predict(matrix)
    bins = np.minimum((probability * 10).astype(int), 9)
    gap = 0.0
    for b in np.unique(bins):
        inside = bins == b
        if inside.sum() >= 100:
            assert abs(probability[inside].mean() - labels[inside].mean()) < 0.05, b
        gap += abs(probability[inside].mean() - labels[inside].mean()) * inside.sum()
    assert gap / len(labels) < 0.01  # expected calibration error
    assert ((probability >= 0.5) == labels).mean() > 0.98
