"""Record linkage: which rows of two tables describe the same person (DESIGN.md section 5).

Pure (numpy, pandas, scikit-learn, rapidfuzz, pypinyin), no database. CONTRACTS.md section 2::

    pairs = link(left, right, spec={"left_id": "rec_id", "right_id": "rec_id",
                                    "fields": {"surname": "name", "date_of_birth": "date"}})

returns one row per candidate pair whose calibrated probability is at least
``spec.get("min_probability", 0.5)``, with columns ``left_id, right_id, probability,
evidence``; ``evidence`` is a dict naming, per compared field, how it matched
(``{"id_number": "one_digit", "name": "homophone", ...}``) so a reviewer sees why.

The engine has three stages, none of which loops in Python over pairs:

1. *Preparation* normalizes each column by its type (full-width to half-width, GB 11643
   bodies of 15-, 17- and 18-character ID numbers, pinyin of Chinese names, dates as
   year/month/day) and derives blocking keys.
2. *Blocking* joins the two tables on several keys so that one error in one field never
   hides a pair: strong keys alone (ID body, ID with one of its three parts left out,
   the ID's sorted digits, which a transposition keeps, the last 8 digits of a phone) and
   every pair of weak keys of two different fields (birth date and pinyin name, region and
   name initials, postcode and surname...). A block whose cross product exceeds the cap is
   skipped; common keys only count together with a second key.
3. *Scoring* compares the candidate pairs column-wise (numpy arrays, ``rapidfuzz``'s
   pairwise ``cpdist``) into a feature matrix, which a histogram gradient-boosting
   classifier, trained on generated labelled pairs of the same field types (true matches
   carrying every kind of error, alone and two at once; namesakes born days apart,
   relatives sharing an address, another person's number a digit away) and calibrated,
   turns into probabilities. A GB 11643 number that fails its check but carries the
   check character of the other number is told from another person's number by that.
   The model is trained once per field layout and kept in memory; the seed is fixed, so
   results are deterministic.

Rosters larger than one machine's memory are split by ``region_chunks`` (ID region code,
plus a pass on exact ID numbers) and each chunk is linked by an independent task.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pypinyin import Style, lazy_pinyin
from rapidfuzz import fuzz
from rapidfuzz.distance import OSA, Hamming, JaroWinkler, Levenshtein
from rapidfuzz.process import cpdist

from orgs_registry.identifiers import ID_CHECK_CHARS, ID_WEIGHTS

FIELD_TYPES = ("id_number", "person_name", "name", "date", "phone", "text", "exact")
DEFAULT_MIN_PROBABILITY = 0.5
# Largest cross product of one block; a bigger block is a common key (a frequent name,
# a state) that only narrows enough together with a second key.
DEFAULT_MAX_BLOCK_PAIRS = 2_000
OUTPUT_COLUMNS = ["left_id", "right_id", "probability", "evidence"]

_U64 = np.uint64
_MIX = _U64(0x9E3779B97F4A7C15)
_WEIGHTS = np.array(ID_WEIGHTS, dtype=np.int64)
_CHECK = np.frombuffer(ID_CHECK_CHARS.encode(), dtype=np.uint8)
_CJK = r"[\u3400-\u9fff\uf900-\ufaff]"


# --- Spec -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    left_id: str
    right_id: str
    fields: tuple[tuple[str, str], ...]
    min_probability: float
    max_block_pairs: int
    dedupe: bool


def _parse_spec(spec: Mapping[str, Any], left: pd.DataFrame, right: pd.DataFrame) -> Spec:
    fields = spec.get("fields") or {}
    if not fields:
        raise ValueError("spec['fields'] must name at least one column to compare")
    for column, kind in fields.items():
        if kind not in FIELD_TYPES:
            raise ValueError(
                f"field {column!r} has type {kind!r}; expected one of {', '.join(FIELD_TYPES)}"
            )
        for side, frame in (("left", left), ("right", right)):
            if column not in frame.columns:
                raise ValueError(f"field {column!r} is not a column of the {side} frame")
    for key in ("left_id", "right_id"):
        if key not in spec:
            raise ValueError(f"spec[{key!r}] must name the id column")
    if spec["left_id"] not in left.columns:
        raise ValueError(f"left_id {spec['left_id']!r} is not a column of the left frame")
    if spec["right_id"] not in right.columns:
        raise ValueError(f"right_id {spec['right_id']!r} is not a column of the right frame")
    min_probability = float(spec.get("min_probability", DEFAULT_MIN_PROBABILITY))
    if not 0.0 <= min_probability <= 1.0:
        raise ValueError("spec['min_probability'] must be between 0 and 1")
    return Spec(
        left_id=spec["left_id"],
        right_id=spec["right_id"],
        fields=tuple((str(c), str(k)) for c, k in fields.items()),
        min_probability=min_probability,
        max_block_pairs=int(spec.get("max_block_pairs", DEFAULT_MAX_BLOCK_PAIRS)),
        dedupe=bool(spec.get("dedupe", False)),
    )


# --- Helpers ----------------------------------------------------------------------------------


def _text(values: pd.Series) -> pd.Series:
    """Strings folded to half-width (NFKC), missing values as <NA>."""
    series = pd.Series(values).astype("str")
    return series.str.normalize("NFKC").str.strip().replace("", np.nan).astype("str")


def _hash(values: pd.Series) -> np.ndarray:
    return pd.util.hash_array(values.fillna("").to_numpy(dtype=object)).astype(_U64)


def _strings(values: pd.Series) -> np.ndarray:
    return values.fillna("").to_numpy(dtype=object)


def _digit_matrix(values: pd.Series, width: int) -> np.ndarray:
    """Right-padded byte matrix (n x width) of ASCII strings."""
    raw = values.fillna("").str.slice(0, width).to_numpy(dtype=object).astype(f"S{width}")
    return raw.view(np.uint8).reshape(-1, width) if len(raw) else np.zeros((0, width), np.uint8)


def _check_chars(body: np.ndarray) -> np.ndarray:
    """GB 11643 check characters (as bytes) of an n x 17 matrix of ASCII digits.

    The vectorized counterpart of ``orgs_registry.identifiers.id_check_char``, with its
    weights and alphabet.
    """
    digits = body.astype(np.int64) - 48
    return _CHECK[(digits @ _WEIGHTS) % 11]


def _as_int(matrix: np.ndarray) -> np.ndarray:
    """Digits of an ASCII digit matrix (at most 18 columns) as one int64 per row."""
    digits = matrix.astype(np.int64) - 48
    digits[(digits < 0) | (digits > 9)] = 0
    powers = 10 ** np.arange(matrix.shape[1] - 1, -1, -1, dtype=np.int64)
    return digits @ powers


# --- Preparation per field type ---------------------------------------------------------------


@dataclass
class Prepared:
    """A column prepared for linkage. ``features`` hold one entry per distinct value (the
    last one is the missing value); ``rows`` maps each row to its distinct value, so
    that a name repeated a thousand times in a roster is worked on once. Blocking keys
    (``strong``, ``weak``: name -> (uint64 key, valid)) hold one entry per row."""

    features: dict[str, Any]
    strong: dict[str, tuple[np.ndarray, np.ndarray]]
    weak: dict[str, tuple[np.ndarray, np.ndarray]]
    rows: np.ndarray | None = None


def _prep_id(values: pd.Series) -> Prepared:
    norm = pd.Series(values).astype("str")
    # Most numbers are already clean; only the others pay for Unicode normalization.
    dirty = ~norm.str.fullmatch(r"[0-9]{6,18}X?").fillna(True).to_numpy(dtype=bool)
    if dirty.any():
        fixed = _text(norm[dirty]).str.replace(r"[\s\-]", "", regex=True).str.upper()
        norm = norm.where(~dirty, fixed.reindex(norm.index))
    length = norm.str.len().fillna(0).to_numpy(dtype=np.int64)
    all_digits = norm.str.fullmatch(r"[0-9]+").fillna(False).to_numpy(dtype=bool)
    last = norm.str.slice(17, 18)
    # An X among the last two characters is a check character swapped with its neighbour.
    is18 = (length == 18) & norm.str.fullmatch(r"[0-9]{16}[0-9X]{2}").fillna(False).to_numpy(bool)
    is17 = (length == 17) & all_digits
    is15 = (length == 15) & all_digits
    cn = is18 | is17 | is15
    body = norm.str.slice(0, 17).where(~is15, norm.str.slice(0, 6) + "19" + norm.str.slice(6))
    body = body.where(cn, np.nan)
    matrix = _digit_matrix(body, 17)
    check = np.zeros(len(norm), dtype=np.uint8)
    given = _digit_matrix(last.where(is18, np.nan), 1)[:, 0] if len(norm) else check
    if cn.any():
        check[cn] = _check_chars(matrix[cn])
    valid = cn & (is18 & (given == check) | is15)
    full = np.column_stack([matrix, np.where(is18, given, check)]) if len(norm) else matrix
    generic = norm.where(~cn & norm.notna(), np.nan)
    comparable = body.fillna(generic)
    present = comparable.notna().to_numpy(dtype=bool)
    dob = np.where(cn, _as_int(matrix[:, 6:14]) if len(norm) else 0, 0)
    region = np.where(cn, _as_int(matrix[:, 0:6]) if len(norm) else 0, 0)
    sex = np.where(cn, (matrix[:, 16].astype(np.int64) - 48) % 2 if len(norm) else 0, -1)
    body_key = _as_int(matrix).astype(_U64) if len(norm) else np.zeros(0, _U64)
    if (~cn & present).any():
        body_key = np.where(cn, body_key, _hash(comparable))
    strong = {"id:body": (body_key, present)}
    # Two digits swapped across the border of two parts change both: a key with each
    # border pair put in order does not see the swap.
    bordered = matrix.copy()
    for a in (5, 9, 13):
        pair = np.sort(matrix[:, a : a + 2], axis=1)
        bordered[:, a : a + 2] = pair
    strong["id:border"] = (_as_int(bordered).astype(_U64) ^ _U64(7), cn)
    # One digit wrong leaves three of the four parts (region, birth year, birth month and
    # day, sequence) intact; each key leaves one part out.
    parts = [(0, 6), (6, 10), (10, 14), (14, 17)]
    for left_out in range(4):
        key = np.zeros(len(norm), dtype=np.int64)
        for index, (start, end) in enumerate(parts):
            if index != left_out:
                key = key * 10 ** (end - start) + _as_int(matrix[:, start:end])
        strong[f"id:without{left_out}"] = (key.astype(_U64), cn)
    weak = {
        "id:dob": (dob.astype(_U64), cn),
    }
    return Prepared(
        features={
            "raw": _strings(norm),
            "comparable": _strings(comparable),
            "length": comparable.str.len().fillna(0).to_numpy(dtype=np.int64),
            "present": present,
            "cn": cn,
            "matrix": matrix,
            "full": full,
            "valid": valid,
            # The check character as written (0 when none is) and as the body implies.
            "given": np.where(is18, given, 0).astype(np.uint8),
            "check": check,
            "legacy": is15,
            "no_check": is17,
            "dob": dob,
            "region": region,
            "sex": sex,
        },
        strong=strong,
        weak=weak,
    )


# Pinyin of every character met so far (a few thousand at most).
_SYLLABLES: dict[str, str] = {}


def _pinyin_table(chars: set[str]) -> dict[int, str]:
    cache = _SYLLABLES
    missing = [c for c in chars if c not in cache]
    if missing:
        # One call per distinct character; "lv" and "lu" are one sound written two ways.
        for char, syllable in zip(
            missing, lazy_pinyin(missing, style=Style.NORMAL, errors="ignore"), strict=False
        ):
            cache[char] = syllable.replace("v", "u")
    return {ord(c): f" {cache.get(c, c)} " for c in chars}


def _prep_name(values: pd.Series) -> Prepared:
    norm = (
        _text(values)
        .str.lower()
        .str.replace(r"[\s·•.\-_,'’]+", " ", regex=True)
        .str.replace("ü", "u")
        .str.strip()
        .replace("", np.nan)
        .astype("str")
    )
    present = norm.notna().to_numpy(dtype=bool)
    cjk = norm.str.contains(_CJK, regex=True).fillna(False).to_numpy(dtype=bool)
    compact = norm.str.replace(" ", "", regex=False)
    written = compact.where(cjk, norm)  # spaces inside a Chinese name mean nothing
    uniques = pd.unique(compact[cjk].dropna())
    table = _pinyin_table(set("".join(uniques))) if len(uniques) else {}
    pinyin = (
        written.where(~cjk, compact.str.translate(table))
        .str.replace(r"\s+", " ", regex=True)
        .str.strip()
        .astype("str")
    )
    joined = pinyin.str.replace(" ", "", regex=False)
    # A name is its first token (a Chinese surname, or a Latin first word) and the rest:
    # "wang baowei" and "Baowei Wang" sort to one key, "wang b" is the initials key.
    parts = pinyin.str.extract(r"^(\S+) ?(.*)$")
    first, rest = parts[0].astype("str"), parts[1].astype("str").fillna("")
    rest_joined = rest.str.replace(" ", "", regex=False)
    low = first.where(first <= rest_joined, rest_joined)
    high = rest_joined.where(first <= rest_joined, first)
    ordered = (low + " " + high).str.strip().where(pinyin.notna(), np.nan)
    rest_initials = rest.str.replace(r"(\S)\S*", r"\1", regex=True).str.replace(" ", "")
    initials = (first + " " + rest_initials).str.strip().where(pinyin.notna(), np.nan)
    weak = {
        "joined": (_hash(joined), present),
        "sorted": (_hash(ordered), present),
        "initials": (_hash(initials), present),
    }
    return Prepared(
        features={
            "raw": _strings(written),
            "pinyin": _strings(pinyin),
            "joined": _strings(joined),
            "sorted": _strings(ordered),
            "present": present,
            "cjk": cjk,
        },
        strong={},
        weak=weak,
    )


def _prep_date(values: pd.Series) -> Prepared:
    series = pd.Series(values)
    if pd.api.types.is_datetime64_any_dtype(series):
        digits = series.dt.strftime("%Y%m%d").astype("str")
    else:
        digits = _text(series.astype("str")).str.replace(r"[^0-9]", "", regex=True)
    ok = digits.str.len().eq(8).fillna(False).to_numpy(dtype=bool)
    number = pd.to_numeric(digits.where(ok, np.nan), errors="coerce").fillna(0).to_numpy(np.int64)
    year, month, day = number // 10000, number // 100 % 100, number % 100
    when = pd.to_datetime(
        pd.DataFrame({"year": year.clip(1, 9999), "month": month, "day": day}),
        errors="coerce",
    )
    ordinal = (when.to_numpy(dtype="datetime64[D]").astype(np.int64)).astype(float)
    ordinal[when.isna().to_numpy()] = np.nan
    return Prepared(
        features={
            "number": number,
            "year": year,
            "month": month,
            "day": day,
            "ordinal": ordinal,
            "present": ok,
            "matrix": _digit_matrix(digits.where(ok, np.nan), 8),
        },
        strong={},
        weak={"date": (number.astype(_U64), ok)},
    )


def _prep_phone(values: pd.Series) -> Prepared:
    digits = _text(values).str.replace(r"[^0-9]", "", regex=True)
    digits = digits.where(
        ~(digits.str.len().eq(13) & digits.str.startswith("86")), digits.str.slice(2)
    )
    digits = digits.where(digits.str.len().ge(6), np.nan)
    present = digits.notna().to_numpy(dtype=bool)
    last8 = digits.str.slice(-8)
    matrix = _digit_matrix(last8.str.pad(8, fillchar="0"), 8)
    return Prepared(
        features={
            "raw": _strings(digits),
            "last8": _strings(last8),
            "length": digits.str.len().fillna(0).to_numpy(dtype=np.int64),
            "present": present,
            "matrix": matrix,
        },
        strong={"phone:last8": (_as_int(matrix).astype(_U64), present)},
        weak={},
    )


def _prep_text(values: pd.Series) -> Prepared:
    norm = _text(values).str.lower().str.replace(r"[\s,.;:#/\-]+", " ", regex=True).str.strip()
    norm = norm.replace("", np.nan)
    present = norm.notna().to_numpy(dtype=bool)
    return Prepared(
        features={"raw": _strings(norm), "present": present},
        strong={},
        weak={"text": (_hash(norm), present)},
    )


def _prep_exact(values: pd.Series) -> Prepared:
    norm = _text(values.astype("str")).str.lower()
    present = norm.notna().to_numpy(dtype=bool)
    return Prepared(
        features={"raw": _strings(norm), "present": present},
        strong={},
        weak={"exact": (_hash(norm), present)},
    )


_PREPARE = {
    "id_number": _prep_id,
    "person_name": _prep_name,
    "name": _prep_name,
    "date": _prep_date,
    "phone": _prep_phone,
    "text": _prep_text,
    "exact": _prep_exact,
}


def _prepare_column(values: pd.Series, kind: str) -> Prepared:
    if kind in ("id_number", "phone"):  # nearly every value is distinct
        return _PREPARE[kind](values.reset_index(drop=True))
    codes, uniques = pd.factorize(values.reset_index(drop=True), use_na_sentinel=True)
    distinct = pd.Series(uniques)
    distinct = distinct.reindex(range(len(distinct) + 1))  # the last one is missing
    rows = np.where(codes < 0, len(distinct) - 1, codes)
    prepared = _PREPARE[kind](distinct)
    expand = {name: (key[rows], valid[rows]) for name, (key, valid) in prepared.strong.items()}
    prepared.strong = expand
    prepared.weak = {name: (key[rows], valid[rows]) for name, (key, valid) in prepared.weak.items()}
    prepared.rows = rows
    return prepared


def _prepare(frame: pd.DataFrame, fields: tuple[tuple[str, str], ...]) -> list[Prepared]:
    return [_prepare_column(frame[column], kind) for column, kind in fields]


# --- Blocking ---------------------------------------------------------------------------------


def _join(
    left_key: tuple[np.ndarray, np.ndarray],
    right_key: tuple[np.ndarray, np.ndarray],
    cap: int,
) -> tuple[np.ndarray, np.ndarray]:
    lk, lvalid = left_key
    rk, rvalid = right_key
    li = np.flatnonzero(lvalid)
    ri = np.flatnonzero(rvalid)
    lkv, rkv = lk[li], rk[ri]
    # Hash-based membership: a sort of a million-row roster's keys costs more.
    keep = pd.Index(rkv).get_indexer(lkv) >= 0 if pd.Index(rkv).is_unique else np.isin(lkv, rkv)
    li, lkv = li[keep], lkv[keep]
    keep = np.isin(rkv, lkv)
    ri, rkv = ri[keep], rkv[keep]
    if not len(li):
        return li, ri
    keys, lcount = np.unique(lkv, return_counts=True)
    _rkeys, rcount = np.unique(rkv, return_counts=True)
    small = keys[lcount * rcount <= cap]
    if len(small) < len(keys):
        keep = np.isin(lkv, small)
        li, lkv = li[keep], lkv[keep]
        keep = np.isin(rkv, small)
        ri, rkv = ri[keep], rkv[keep]
    merged = pd.DataFrame({"k": lkv, "l": li}).merge(pd.DataFrame({"k": rkv, "r": ri}), on="k")
    return merged["l"].to_numpy(np.int64), merged["r"].to_numpy(np.int64)


def _combine(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]):
    return (a[0] * _MIX) ^ (b[0] + _U64(0x632BE59BD9B4E019)), a[1] & b[1]


def blocking_passes(fields: tuple[tuple[str, str], ...]) -> list[tuple[tuple[int, str], ...]]:
    """The passes for a field layout: each strong key alone, and each pair of weak keys
    of two different fields (field index, key name)."""
    sample = _prepare(pd.DataFrame({c: pd.Series([], dtype="string") for c, _ in fields}), fields)
    passes: list[tuple[tuple[int, str], ...]] = []
    weak: list[tuple[int, str]] = []
    for index, prepared in enumerate(sample):
        passes.extend(((index, name),) for name in prepared.strong)
        weak.extend((index, name) for name in prepared.weak)
    for i, first in enumerate(weak):
        for second in weak[i + 1 :]:
            if first[0] != second[0]:
                passes.append((first, second))
    return passes


def _key(prepared: list[Prepared], step: tuple[int, str]):
    field = prepared[step[0]]
    return field.strong.get(step[1]) or field.weak[step[1]]


def _candidates(
    left: list[Prepared], right: list[Prepared], spec: Spec, n_right: int
) -> tuple[np.ndarray, np.ndarray]:
    found_l: list[np.ndarray] = []
    found_r: list[np.ndarray] = []
    for steps in blocking_passes(spec.fields):
        lkey, rkey = _key(left, steps[0]), _key(right, steps[0])
        for step in steps[1:]:
            lkey, rkey = _combine(lkey, _key(left, step)), _combine(rkey, _key(right, step))
        li, ri = _join(lkey, rkey, spec.max_block_pairs)
        found_l.append(li)
        found_r.append(ri)
    if not found_l:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    code = np.unique(np.concatenate(found_l) * max(n_right, 1) + np.concatenate(found_r))
    li, ri = code // max(n_right, 1), code % max(n_right, 1)
    if spec.dedupe:
        keep = li < ri
        li, ri = li[keep], ri[keep]
    return li, ri


# --- Comparison -------------------------------------------------------------------------------


def _pairwise(scorer, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if not len(a):
        return np.zeros(0)
    return np.asarray(cpdist(list(a), list(b), scorer=scorer, workers=1), dtype=float)


def _compare_id(left, right, li, ri):
    lf, rf = left.features, right.features
    both = lf["present"][li] & rf["present"][ri]
    cn = lf["cn"][li] & rf["cn"][ri]
    lm, rm = lf["matrix"][li], rf["matrix"][ri]
    hamming = (lm != rm).sum(axis=1).astype(float)
    lm, rm = lf["full"][li], rf["full"][ri]
    differ = lm != rm
    swapped = (
        differ[:, :-1] & differ[:, 1:] & (lm[:, :-1] == rm[:, 1:]) & (lm[:, 1:] == rm[:, :-1])
    ).any(axis=1) & (differ.sum(axis=1) == 2)
    lc, rc = lf["comparable"][li], rf["comparable"][ri]
    same_len = lf["length"][li] == rf["length"][ri]
    edit = _pairwise(Levenshtein.distance, lc, rc)
    generic = ~cn & both
    if generic.any():
        generic_ham = np.where(same_len, _pairwise(Hamming.distance, lc, rc), np.nan)
        # An adjacent swap costs two substitutions but one OSA edit.
        osa = _pairwise(OSA.distance, lc, rc)
        generic_swap = generic & (osa == 1) & (generic_ham == 2)
    else:
        generic_ham = np.full(len(li), np.nan)
        generic_swap = np.zeros(len(li), dtype=bool)
    hamming = np.where(cn, hamming, generic_ham)
    transposition = np.where(cn, swapped, generic_swap)
    raw_equal = lf["raw"][li] == rf["raw"][ri]
    body_equal = lc == rc
    lvalid, rvalid = lf["valid"][li], rf["valid"][ri]
    valid_both = lvalid & rvalid
    valid_one = lvalid ^ rvalid
    # A number that fails its check yet carries the check character of the other side's
    # number is that number mistyped: a typed digit changes the body, not the check
    # character written after it. Another person's valid number one digit away carries
    # its own check character, which differs (10 times out of 11). This is what tells a
    # typo from a neighbour when the names differ too (a homophone, a pinyin spelling).
    lgiven, rgiven = lf["given"][li], rf["given"][ri]
    confirms = (~lvalid & (lgiven > 0) & (lgiven == rf["check"][ri])) | (
        ~rvalid & (rgiven > 0) & (rgiven == lf["check"][li])
    )
    features = np.column_stack(
        [
            both,
            np.where(both, raw_equal, np.nan),
            np.where(both, body_equal, np.nan),
            np.where(both, np.minimum(hamming, 6), np.nan),
            np.where(both, transposition, np.nan),
            np.where(both, np.minimum(edit, 6), np.nan),
            np.where(cn, valid_both, np.nan),
            np.where(cn, valid_one, np.nan),
            # Only a typo apart: one digit, or two for a swap.
            np.where(cn & ~body_equal, confirms & (hamming <= 2), np.nan),
            np.where(cn, lf["dob"][li] == rf["dob"][ri], np.nan),
            np.where(cn, lf["sex"][li] == rf["sex"][ri], np.nan),
            np.where(cn, lf["region"][li] == rf["region"][ri], np.nan),
        ]
    )
    legacy = lf["legacy"][li] | rf["legacy"][ri]
    no_check = lf["no_check"][li] | rf["no_check"][ri]
    evidence = np.select(
        [
            ~both,
            raw_equal,
            body_equal & legacy,
            body_equal & no_check,
            body_equal & cn & ~valid_both,
            body_equal,
            transposition,
            hamming == 1,
        ],
        [
            "missing",
            "exact",
            "legacy_15",
            "missing_check_digit",
            "check_digit",
            "normalized",
            "transposition",
            "one_digit",
        ],
        "different",
    )
    return features, evidence


def _compare_name(left, right, li, ri):
    lf, rf = left.features, right.features
    both = lf["present"][li] & rf["present"][ri]
    lraw, rraw = lf["raw"][li], rf["raw"][ri]
    raw_equal = lraw == rraw
    joined_equal = lf["joined"][li] == rf["joined"][ri]
    sorted_equal = lf["sorted"][li] == rf["sorted"][ri]
    lcjk, rcjk = lf["cjk"][li], rf["cjk"][ri]
    script_differs = lcjk != rcjk
    jw_pinyin = _pairwise(JaroWinkler.normalized_similarity, lf["joined"][li], rf["joined"][ri])
    jw_raw = _pairwise(JaroWinkler.normalized_similarity, lraw, rraw)
    edit_pinyin = _pairwise(Levenshtein.distance, lf["joined"][li], rf["joined"][ri])
    token_set = _pairwise(fuzz.token_set_ratio, lf["pinyin"][li], rf["pinyin"][ri]) / 100
    # The features do not see the order of the parts of a name: "Wei ZHANG" is 张伟 as
    # surely as "Zhang Wei" is. Told apart, the rarer order had too few generated pairs
    # of its own, and with a wrong ID digit besides the model was unsure of it.
    lsorted, rsorted = lf["sorted"][li], rf["sorted"][ri]
    jw_sounds = np.maximum(
        jw_pinyin, _pairwise(JaroWinkler.normalized_similarity, lsorted, rsorted)
    )
    edit_sounds = np.minimum(edit_pinyin, _pairwise(Levenshtein.distance, lsorted, rsorted))
    features = np.column_stack(
        [
            both,
            np.where(both, raw_equal, np.nan),
            np.where(both, joined_equal | sorted_equal, np.nan),
            np.where(both, script_differs, np.nan),
            np.where(both, jw_sounds, np.nan),
            np.where(both, jw_raw, np.nan),
            np.where(both, np.minimum(edit_sounds, 6), np.nan),
            np.where(both, token_set, np.nan),
        ]
    )
    evidence = np.select(
        [
            ~both,
            raw_equal,
            joined_equal & script_differs,
            joined_equal & lcjk & rcjk,
            joined_equal,
            sorted_equal,
            (jw_pinyin >= 0.85) | (edit_pinyin <= 2),
        ],
        ["missing", "exact", "pinyin", "homophone", "normalized", "reordered", "similar"],
        "different",
    )
    return features, evidence


def _compare_date(left, right, li, ri):
    lf, rf = left.features, right.features
    both = lf["present"][li] & rf["present"][ri]
    same = [lf[p][li] == rf[p][ri] for p in ("year", "month", "day")]
    equal = same[0] & same[1] & same[2]
    swapped = same[0] & (lf["month"][li] == rf["day"][ri]) & (lf["day"][li] == rf["month"][ri])
    swapped &= ~equal
    one_component = (same[0].astype(int) + same[1] + same[2]) == 2
    days = np.abs(lf["ordinal"][li] - rf["ordinal"][ri])
    digit_diff = (lf["matrix"][li] != rf["matrix"][ri]).sum(axis=1)
    features = np.column_stack(
        [
            both,
            np.where(both, equal, np.nan),
            np.where(both, swapped, np.nan),
            np.where(both, one_component, np.nan),
            np.where(both, np.log1p(days), np.nan),
            np.where(both, np.minimum(digit_diff, 6), np.nan),
            np.where(both, same[0], np.nan),
        ]
    )
    evidence = np.select(
        [~both, equal, swapped, one_component, digit_diff == 1],
        ["missing", "exact", "day_month_swapped", "one_component", "one_digit"],
        "different",
    )
    return features, evidence


def _compare_phone(left, right, li, ri):
    lf, rf = left.features, right.features
    both = lf["present"][li] & rf["present"][ri]
    equal = lf["raw"][li] == rf["raw"][ri]
    last8 = (lf["last8"][li] == rf["last8"][ri]) & (lf["length"][li] != rf["length"][ri])
    digit_diff = (lf["matrix"][li] != rf["matrix"][ri]).sum(axis=1)
    features = np.column_stack(
        [
            both,
            np.where(both, equal, np.nan),
            np.where(both, last8, np.nan),
            np.where(both, np.minimum(digit_diff, 6), np.nan),
        ]
    )
    evidence = np.select(
        [~both, equal, last8, digit_diff == 1],
        ["missing", "exact", "last_8_digits", "one_digit"],
        "different",
    )
    return features, evidence


def _compare_text(left, right, li, ri):
    lf, rf = left.features, right.features
    both = lf["present"][li] & rf["present"][ri]
    equal = lf["raw"][li] == rf["raw"][ri]
    token_set = _pairwise(fuzz.token_set_ratio, lf["raw"][li], rf["raw"][ri]) / 100
    ratio = _pairwise(fuzz.ratio, lf["raw"][li], rf["raw"][ri]) / 100
    jw = _pairwise(JaroWinkler.normalized_similarity, lf["raw"][li], rf["raw"][ri])
    features = np.column_stack(
        [
            both,
            np.where(both, equal, np.nan),
            np.where(both, token_set, np.nan),
            np.where(both, ratio, np.nan),
            np.where(both, jw, np.nan),
        ]
    )
    evidence = np.select([~both, equal, ratio >= 0.8], ["missing", "exact", "similar"], "different")
    return features, evidence


def _compare_exact(left, right, li, ri):
    lf, rf = left.features, right.features
    both = lf["present"][li] & rf["present"][ri]
    equal = lf["raw"][li] == rf["raw"][ri]
    features = np.column_stack([both, np.where(both, equal, np.nan)])
    evidence = np.select([~both, equal], ["missing", "exact"], "different")
    return features, evidence


_COMPARE = {
    "id_number": _compare_id,
    "person_name": _compare_name,
    "name": _compare_name,
    "date": _compare_date,
    "phone": _compare_phone,
    "text": _compare_text,
    "exact": _compare_exact,
}


def _rows(prepared: Prepared, index: np.ndarray) -> np.ndarray:
    return index if prepared.rows is None else prepared.rows[index]


def _cross_birth_dates(fields, left, right, li, ri) -> list[np.ndarray]:
    """The birth date an ID number implies against a date column of the other side."""
    ids = [i for i, (_, kind) in enumerate(fields) if kind == "id_number"]
    dates = [i for i, (_, kind) in enumerate(fields) if kind == "date"]
    columns = []
    for i in ids:
        for d in dates:
            lid, rid = left[i].features, right[i].features
            ld, rd = left[d].features, right[d].features
            lii, rii = _rows(left[i], li), _rows(right[i], ri)
            ldi, rdi = _rows(left[d], li), _rows(right[d], ri)
            agree_lr = np.where(
                lid["cn"][lii] & rd["present"][rdi], lid["dob"][lii] == rd["number"][rdi], np.nan
            )
            agree_rl = np.where(
                rid["cn"][rii] & ld["present"][ldi], rid["dob"][rii] == ld["number"][ldi], np.nan
            )
            columns.append(np.fmax(agree_lr, agree_rl))
    return columns


def _swapped_fields(fields, left, right, li, ri) -> list[np.ndarray]:
    """Two fields of one kind written in each other's place (first name and surname,
    two address lines): how alike each is to the other side's other field."""
    columns = []
    for group, key in ((("name", "person_name"), "joined"), (("text",), "raw")):
        members = [i for i, (_, kind) in enumerate(fields) if kind in group]
        for n, i in enumerate(members):
            for j in members[n + 1 :]:
                li_i, ri_i = _rows(left[i], li), _rows(right[i], ri)
                li_j, ri_j = _rows(left[j], li), _rows(right[j], ri)
                a = _pairwise(
                    JaroWinkler.normalized_similarity,
                    left[i].features[key][li_i],
                    right[j].features[key][ri_j],
                )
                b = _pairwise(
                    JaroWinkler.normalized_similarity,
                    left[j].features[key][li_j],
                    right[i].features[key][ri_i],
                )
                present = (
                    left[i].features["present"][li_i]
                    & right[j].features["present"][ri_j]
                    & left[j].features["present"][li_j]
                    & right[i].features["present"][ri_i]
                )
                columns.append(np.where(present, (a + b) / 2, np.nan))
    return columns


# Feature columns, by field type and position in that type's comparison, whose larger
# values never make a match likelier: the distances between two ID numbers. The model is
# held to that (a monotonic constraint), so that a number many digits away never scores
# above one a digit away where the generated pairs hold few numbers that far apart (a
# namesake born the same day elsewhere whose own number is mistyped).
_DECREASING = {"id_number": (3, 5)}  # _compare_id's Hamming and edit distances


def _features(spec_fields, left, right, li, ri) -> tuple[np.ndarray, list[np.ndarray]]:
    matrix, evidence, _ = _features_directed(spec_fields, left, right, li, ri)
    return matrix, evidence


def _features_directed(spec_fields, left, right, li, ri):
    """The feature matrix, the evidence per field and each column's direction (-1: may
    only lower the probability, 0: free)."""
    blocks: list[np.ndarray] = []
    evidence: list[np.ndarray] = []
    directions: list[np.ndarray] = []
    for index, (_, kind) in enumerate(spec_fields):
        feats, labels = _COMPARE[kind](
            left[index], right[index], _rows(left[index], li), _rows(right[index], ri)
        )
        blocks.append(feats.astype(float))
        evidence.append(labels)
        direction = np.zeros(feats.shape[1], dtype=np.int8)
        direction[list(_DECREASING.get(kind, ()))] = -1
        directions.append(direction)
    blocks.extend(c[:, None] for c in _cross_birth_dates(spec_fields, left, right, li, ri))
    blocks.extend(c[:, None] for c in _swapped_fields(spec_fields, left, right, li, ri))
    # How many fields agree in some way, and how many disagree outright: a pair that shares
    # one street and nothing else is not a person seen twice.
    if evidence:
        labels = np.column_stack(evidence)
        agree = ((labels != "different") & (labels != "missing")).mean(axis=1)
        differ = (labels == "different").mean(axis=1)
        blocks.extend([agree[:, None], differ[:, None]])
    width = sum(b.shape[1] for b in blocks)
    matrix = np.hstack(blocks) if blocks else np.zeros((len(li), width))
    fixed = sum(len(d) for d in directions)
    directions.append(np.zeros(width - fixed, dtype=np.int8))
    return matrix, evidence, np.concatenate(directions)


def feature_directions(fields: tuple[tuple[str, str], ...]) -> np.ndarray:
    """Per feature column of a field layout: -1 where a larger value may only lower the
    probability of a match, 0 elsewhere (the model's monotonic constraints)."""
    sample = _prepare(pd.DataFrame({c: pd.Series([], dtype="string") for c, _ in fields}), fields)
    none = np.zeros(0, dtype=np.int64)
    return _features_directed(fields, sample, sample, none, none)[2]


def _plausible(evidence: list[np.ndarray]) -> np.ndarray:
    """Pairs on which at least one field agrees in some way. The others only shared a
    blocking key by chance (same region and sequence number, say): no model is needed to
    turn them down, and they are most of the candidates of a large roster."""
    if not evidence:
        return np.zeros(0, dtype=bool)
    keep = np.zeros(len(evidence[0]), dtype=bool)
    for labels in evidence:
        keep |= (labels != "different") & (labels != "missing")
    return keep


# --- Public API -------------------------------------------------------------------------------


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "left_id": pd.Series([], dtype=object),
            "right_id": pd.Series([], dtype=object),
            "probability": pd.Series([], dtype=float),
            "evidence": pd.Series([], dtype=object),
        }
    )


def link(left: pd.DataFrame, right: pd.DataFrame, spec: Mapping[str, Any]) -> pd.DataFrame:
    """Pairs of rows of ``left`` and ``right`` that describe the same entity.

    ``spec``: ``left_id``, ``right_id`` (id columns), ``fields`` (``{column: type}``),
    optional ``min_probability`` (0.5), ``max_block_pairs`` (2,000: the largest block
    joined on one key alone) and ``dedupe`` (``left`` and ``right`` are one table: keep
    each pair once, never a row with itself).

    Candidate pairs are those that share a blocking key and agree on at least one field in
    some way; ``min_probability=0`` returns all of them with their probabilities.
    """
    parsed = _parse_spec(spec, left, right)
    if left.empty or right.empty:
        return _empty()
    from evaluation.linkage_model import model_for, predict

    left_prep = _prepare(left, parsed.fields)
    right_prep = _prepare(right, parsed.fields)
    li, ri = _candidates(left_prep, right_prep, parsed, len(right))
    if not len(li):
        return _empty()
    matrix, evidence = _features(parsed.fields, left_prep, right_prep, li, ri)
    plausible = _plausible(evidence)
    li, ri, matrix = li[plausible], ri[plausible], matrix[plausible]
    evidence = [e[plausible] for e in evidence]
    model = model_for(parsed.fields, profile(left, right, parsed.fields))
    probability = predict(model, matrix)
    keep = probability >= parsed.min_probability
    names = [column for column, _ in parsed.fields]
    labels = np.column_stack([e[keep] for e in evidence]) if evidence else np.zeros((0, 0))
    result = pd.DataFrame(
        {
            "left_id": left[parsed.left_id].to_numpy()[li[keep]],
            "right_id": right[parsed.right_id].to_numpy()[ri[keep]],
            "probability": probability[keep].round(6),
            "evidence": [dict(zip(names, row, strict=True)) for row in labels.tolist()],
        }
    )
    return result.sort_values(
        ["probability", "left_id", "right_id"], ascending=[False, True, True], kind="stable"
    ).reset_index(drop=True)


def evidence_json(evidence: Mapping[str, str]) -> str:
    """The evidence of one pair as a JSON string (for storage or display)."""
    return json.dumps(dict(evidence), ensure_ascii=False, sort_keys=True)


def profile(
    left: pd.DataFrame, right: pd.DataFrame, fields: tuple[tuple[str, str], ...]
) -> tuple[str, ...]:
    """What the data looks like, per field, so the training data can look the same:
    ``cn`` for GB 11643 numbers or Chinese names, ``generic:N`` for other numbers of
    about N characters, ``latin`` for other names, the type itself otherwise."""
    kinds = []
    for column, kind in fields:
        values = pd.concat([left[column].head(5000), right[column].head(5000)]).dropna()
        values = _text(values.astype("str")).dropna()
        if kind == "id_number":
            norm = values.str.replace(r"[\s\-]", "", regex=True)
            cn = norm.str.fullmatch(r"[0-9]{15}|[0-9]{17}[0-9Xx]?").mean() if len(norm) else 1.0
            width = int(norm.str.len().median()) if len(norm) else 7
            kinds.append("cn" if cn >= 0.5 else f"generic:{min(max(width, 4), 16)}")
        elif kind in ("person_name", "name"):
            share = values.str.contains(_CJK, regex=True).mean() if len(values) else 0.0
            kinds.append("cn" if share >= 0.1 else "latin")
        else:
            kinds.append(kind)
    return tuple(kinds)


# --- Chunking ---------------------------------------------------------------------------------


def id_regions(values: pd.Series) -> pd.Series:
    """The six-digit region code (GB 11643 positions 1-6) of each ID number, <NA> when the
    value is not one."""
    prepared = _prep_id(pd.Series(values).reset_index(drop=True))
    region = pd.Series(prepared.features["region"], dtype="Int64").astype("string").str.zfill(6)
    return region.where(prepared.features["cn"], pd.NA).set_axis(pd.Series(values).index)


@dataclass(frozen=True)
class Chunk:
    """One independent task: link ``left.loc[left_index]`` with ``right.loc[right_index]``.
    ``region`` is the six-digit code, or ``"exact_id"`` for the pass on exact ID numbers."""

    region: str
    left_index: pd.Index
    right_index: pd.Index


def region_chunks(
    left: pd.DataFrame, right: pd.DataFrame, *, left_column: str, right_column: str
) -> Iterator[Chunk]:
    """Split a roster (``left``) and the records screened against it (``right``) by the
    region code of their ID numbers, so that a province is linked chunk by chunk.

    Right-hand records without a usable ID number go with every chunk (only their other
    fields can link them). A last chunk pairs every record whose normalized ID number is
    found on the other side, whatever its region, so that a record filed under another
    region (a person who moved, a region digit mistyped) still meets its match.
    """
    lreg, rreg = id_regions(left[left_column]), id_regions(right[right_column])
    homeless = right.index[rreg.isna().to_numpy()]
    for region in sorted(set(rreg.dropna())):
        right_index = right.index[(rreg == region).fillna(False).to_numpy()].append(homeless)
        left_index = left.index[(lreg == region).fillna(False).to_numpy()]
        if len(left_index):
            yield Chunk(region, left_index, right_index)
    lbody = pd.Series(_prep_id(left[left_column].reset_index(drop=True)).features["comparable"])
    rbody = pd.Series(_prep_id(right[right_column].reset_index(drop=True)).features["comparable"])
    lbody, rbody = lbody.where(lbody != ""), rbody.where(rbody != "")
    shared = set(lbody.dropna()) & set(rbody.dropna())
    if shared:
        yield Chunk(
            "exact_id",
            left.index[lbody.isin(shared).to_numpy()],
            right.index[rbody.isin(shared).to_numpy()],
        )


def link_chunked(
    left: pd.DataFrame,
    right: pd.DataFrame,
    spec: Mapping[str, Any],
    *,
    left_column: str,
    right_column: str,
) -> pd.DataFrame:
    """``link`` run chunk by chunk (as independent tasks would), results merged: each pair
    once, with its highest probability."""
    parts = [
        link(left.loc[chunk.left_index], right.loc[chunk.right_index], spec)
        for chunk in region_chunks(left, right, left_column=left_column, right_column=right_column)
    ]
    parts = [p for p in parts if len(p)]
    if not parts:
        return _empty()
    merged = pd.concat(parts, ignore_index=True)
    merged = merged.sort_values("probability", ascending=False, kind="stable")
    merged = merged.drop_duplicates(["left_id", "right_id"])
    return merged.sort_values(
        ["probability", "left_id", "right_id"], ascending=[False, True, True], kind="stable"
    ).reset_index(drop=True)
