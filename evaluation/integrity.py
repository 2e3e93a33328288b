"""Pure helpers of the integrity screens (DESIGN 5): findings, fingerprints, periods, the
FTE sweep, text similarity and the adapters to the linkage and collusion engines.

No database here: ``evaluation.services.integrity`` reads the rows into DataFrames, calls
these, and turns the findings into ``IntegrityFlag`` rows. Everything over many rows is
vectorized with pandas/numpy (STYLE.md 5).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from django.core.serializers.json import DjangoJSONEncoder

from evaluation.linkage import link

# An open-ended period (a post without an end date) ends on this day for the arithmetic.
OPEN_END = date(9999, 12, 31)
# A person above this many full-time equivalents across concurrent work is overcommitted.
MAX_FTE = 1.0
# Cosine similarity of two project texts above which they are "near-identical" [cfg].
DUPLICATE_SIMILARITY = 0.8
# A person on the roster linked with at least this probability is the same person [cfg].
LINK_MIN_PROBABILITY = 0.8


@dataclass(frozen=True)
class Finding:
    """One thing a screen found, before it becomes (or refreshes) an ``IntegrityFlag``.

    ``keys`` name the records that matched (a roster row, a subsidy, the other tender):
    with the kind and the subject they make the fingerprint.
    """

    kind: str
    severity: str
    subject_label: str
    evidence: dict[str, Any]
    score: float = 1.0
    keys: tuple[str, ...] = ()
    tender_id: int | None = None
    bid_id: Any = None
    contract_id: int | None = None
    organization_id: int | None = None
    person_id: int | None = None
    assessor_id: int | None = None

    @property
    def fingerprint(self) -> str:
        subject = [
            self.tender_id,
            str(self.bid_id) if self.bid_id is not None else None,
            self.contract_id,
            self.organization_id,
            self.person_id,
            self.assessor_id,
        ]
        payload = json.dumps([self.kind, subject, sorted(self.keys)], default=str)
        return hashlib.sha256(payload.encode()).hexdigest()

    @property
    def evidence_digest(self) -> str:
        return digest(self.evidence)


def _plain(value: Any) -> Any:
    """``value`` with numpy scalars made Python ones and missing values (NaN, NaT, NA) None:
    JSON has no NaN, and PostgreSQL refuses a document that carries one."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NaT or value is pd.NA:
        return None
    return value


def canonical(value: Any) -> Any:
    """``value`` as the JSON the database gives back (dates and Decimals as strings, missing
    values as null)."""
    text = json.dumps(_plain(value), cls=DjangoJSONEncoder, sort_keys=True, allow_nan=False)
    return json.loads(text)


def digest(evidence: Mapping[str, Any]) -> str:
    text = json.dumps(canonical(evidence), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


# --- Periods -------------------------------------------------------------------------------------


def overlap(
    start_a: date | None, end_a: date | None, start_b: date | None, end_b: date | None
) -> tuple[date, date] | None:
    """The common days of two periods (None ends are open), or None when they do not meet."""
    start = max(start_a or date.min, start_b or date.min)
    end = min(end_a or OPEN_END, end_b or OPEN_END)
    return (start, end) if start <= end else None


def period_json(period: tuple[date, date] | None) -> dict[str, str | None] | None:
    if period is None:
        return None
    start, end = period
    return {
        "start": start.isoformat() if start != date.min else None,
        "end": end.isoformat() if end != OPEN_END else None,
    }


def overlaps_frame(frame: pd.DataFrame, a: tuple[str, str], b: tuple[str, str]) -> pd.Series:
    """Row-wise: do the periods in columns ``a`` and ``b`` (start, end; NaT open) meet?"""
    low = pd.Timestamp(1700, 1, 1)
    high = pd.Timestamp(2262, 1, 1)
    start = np.maximum(
        pd.to_datetime(frame[a[0]]).fillna(low), pd.to_datetime(frame[b[0]]).fillna(low)
    )
    end = np.minimum(
        pd.to_datetime(frame[a[1]]).fillna(high), pd.to_datetime(frame[b[1]]).fillna(high)
    )
    return pd.Series(start <= end, index=frame.index)


# --- People: linkage -----------------------------------------------------------------------------

PERSON_SPEC: dict[str, Any] = {
    "left_id": "rec_id",
    "right_id": "rec_id",
    "fields": {
        "name": "person_name",
        "id_number": "id_number",
        "birth_date": "date",
    },
    "min_probability": LINK_MIN_PROBABILITY,
}


def link_people(left: pd.DataFrame, right: pd.DataFrame) -> pd.DataFrame:
    """Link people (columns rec_id, name, id_number, birth_date) to roster rows (the same
    columns) with the record-linkage engine: wrong digits, legacy numbers, homophones and
    missing fields still link (DESIGN 5)."""
    if left.empty or right.empty:
        return pd.DataFrame(columns=["left_id", "right_id", "probability", "evidence"])
    return link(left, right, PERSON_SPEC)


def evidence_fields(evidence: Any) -> Any:
    """The linkage evidence as JSON (it may come as a dict, a Series or text)."""
    if isinstance(evidence, Mapping):
        return canonical(dict(evidence))
    if isinstance(evidence, pd.Series):
        return canonical(evidence.to_dict())
    if isinstance(evidence, str):
        try:
            return json.loads(evidence)
        except ValueError:
            return evidence
    return canonical(evidence) if evidence is not None else {}


# --- Commitments: the FTE sweep ------------------------------------------------------------------


@dataclass(frozen=True)
class Peak:
    person_id: int
    fte: float
    day: date
    commitments: list[str] = field(default_factory=list)


def fte_peaks(commitments: pd.DataFrame, *, limit: float = MAX_FTE) -> list[Peak]:
    """People whose concurrent commitments exceed ``limit`` FTE on some day.

    ``commitments``: columns person, key, fte, start, end (dates; end inclusive, NaT open).
    A sweep over start/end events per person (cumulative sums, no loop per day); for each
    overcommitted person the first peak day and the commitments running on it.
    """
    if commitments.empty:
        return []
    frame = commitments.copy()
    frame["start"] = pd.to_datetime(frame["start"])
    frame["end"] = pd.to_datetime(frame["end"]).fillna(pd.Timestamp(2262, 1, 1))
    frame["fte"] = frame["fte"].astype(float)
    starts = frame[["person", "start", "fte"]].rename(columns={"start": "day"})
    ends = frame[["person", "end", "fte"]].rename(columns={"end": "day"})
    ends = ends.assign(day=ends["day"] + pd.Timedelta(days=1), fte=-ends["fte"])
    events = pd.concat([starts, ends], ignore_index=True)
    events = events.groupby(["person", "day"], as_index=False)["fte"].sum()
    events = events.sort_values(["person", "day"])
    events["load"] = events.groupby("person")["fte"].cumsum().round(4)
    over = events[events["load"] > limit + 1e-9]
    if over.empty:
        return []
    first = over.sort_values(["person", "load", "day"], ascending=[True, False, True])
    first = first.drop_duplicates("person")
    peaks = []
    for row in first.itertuples(index=False):  # one per overcommitted person
        running = frame[
            (frame["person"] == row.person)
            & (frame["start"] <= row.day)
            & (frame["end"] >= row.day)
        ]
        peaks.append(
            Peak(
                person_id=int(row.person),
                fte=float(row.load),
                day=row.day.date(),
                commitments=sorted(str(key) for key in running["key"]),
            )
        )
    return peaks


# --- Text similarity -----------------------------------------------------------------------------


def similar_pairs(
    texts: pd.DataFrame, *, candidates: pd.DataFrame, threshold: float = DUPLICATE_SIMILARITY
) -> pd.DataFrame:
    """Pairs of near-identical texts by TF-IDF cosine similarity (scikit-learn).

    ``texts``: columns key, text. ``candidates``: columns a, b (keys) of the pairs allowed
    (same area and period), so that the matrix is only read where it matters. Character
    n-grams work without word segmentation, which Chinese text needs.
    """
    columns = ["a", "b", "similarity"]
    if texts.empty or candidates.empty:
        return pd.DataFrame(columns=columns)
    from sklearn.feature_extraction.text import TfidfVectorizer

    keys = list(texts["key"])
    position = {key: index for index, key in enumerate(keys)}
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 3), min_df=1)
    matrix = vectorizer.fit_transform(texts["text"].fillna("").astype(str))
    a = candidates["a"].map(position).to_numpy()
    b = candidates["b"].map(position).to_numpy()
    # Rows are L2-normalized: the cosine is the row-wise dot product.
    similarity = np.asarray(matrix[a].multiply(matrix[b]).sum(axis=1)).ravel()
    result = candidates[["a", "b"]].assign(similarity=similarity)
    return result[result["similarity"] >= threshold].reset_index(drop=True)[columns]


def unit_matches(units: pd.Series, markers: Iterable[str]) -> pd.Series:
    """Employing units that belong to the purchasing unit: the name contains a marker (the
    street office and the public institutions under it carry its name)."""
    result = pd.Series(False, index=units.index)
    text = units.fillna("").astype(str)
    for marker in markers:
        if marker:
            result |= text.str.contains(marker, regex=False)
    return result
