"""Collusion and bias screens (DESIGN.md section 5; CONTRACTS.md section 2): pure, no database.

Three families of screens over plain DataFrames, none of which rejects anything: each returns
rows with structured evidence for an official or auditor to review.

1. Price-distribution screens per tender (:func:`tender_screens`): the seven classic screens of
   Huber & Imhof (2019) and García Rodríguez et al. (2022), combined with richer per-tender
   features in :class:`CollusionModel` (gradient boosting, class weights, a decision threshold
   tuned inside the training data only).
2. Red flags named after the OCDS red-flag catalogue ("Red flags for integrity", Open
   Contracting Partnership & Development Gateway, 2016) and links between competing bidders.
3. Assessor bias: systematic deviation from the panel and affinity for one organization.

Every function is vectorized with pandas/numpy: groupby and merges, no Python loop per bid.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

# --- Thresholds [cfg] ---------------------------------------------------------------------

#: R024 "price of winning bid very close to the next bid": the OCDS red-flag catalogue leaves
#: the cut-off to the user. 1 % follows Imhof's DIFFP screen (Imhof, Karagök & Rutz 2018):
#: in the Swiss cartel data most collusive tenders have the two lowest bids within 1-2 %.
R024_MAX_GAP = 0.01
#: R058 "heavily discounted bid": the winner is at least 25 % below the mean of the other
#: bids. The catalogue gives no number and neither does 87号令 Art. 60 (a price "obviously
#: lower" than the others must be explained); 25 % is a common local rule of thumb for that
#: explanation and keeps the flag to outliers.
R058_MIN_DISCOUNT = 0.25
#: R025 "frequent losing bidder": an organization that bid at least this many times ...
R025_MIN_BIDS = 5
#: ... and lost at least this share of them: a cover bidder rarely wins (a bidder that wins
#: one in ten is still a regular competitor, so the cut-off is at 90 %).
R025_MIN_LOSS_SHARE = 0.9
#: R003 "short submission period": fewer days than the legal minimum. Open tendering: 20 days
#: from the tender documents to the bid deadline (87号令 Art. 16); competitive consultation:
#: 10 days (财库〔2014〕214号 Art. 10); competitive negotiation: 3 working days (74号令 Art. 10),
#: counted here as calendar days, which errs towards not flagging.
R003_MIN_DAYS = {"open": 20, "invited": 20, "consultation": 10, "negotiation": 3}
#: Default for methods not listed above.
R003_DEFAULT_MIN_DAYS = 20
#: R028 "identical bid prices": two bids whose prices differ by less than this (in the currency
#: unit, i.e. one fen) are identical.
R028_TOLERANCE = 0.005
#: Assessor bias: a deviation needs at least this many scores before a z-score is trusted;
#: with 20 the standard error of the mean deviation is at most 0.22 residual SD, so a flag
#: needs a shift of more than half an SD on average (and a street office's assessors rarely
#: score many more in a year).
BIAS_MIN_SCORES = 20
#: |z| of an assessor's mean deviation at or above this is flagged (two-sided 1 %, 2.576).
BIAS_MIN_Z = 2.576
#: Affinity: at least this many tenders in which the assessor scored the organization ...
AFFINITY_MIN_TENDERS = 3
#: ... and a one-sided z of the mean excess at or above this, with the assessor above the other
#: assessors' mean for the organization in at least this share of the tenders. 3.09 is the
#: one-sided 0.1 % point rather than 5 %: a district has dozens of assessor-organization pairs
#: and a 5 % test would flag one of every twenty honest ones (a Bonferroni-style correction).
AFFINITY_MIN_Z = 3.09
AFFINITY_MIN_SHARE = 0.8
#: Price screen: the collusion model reads a tender only when it has at least this many valid
#: bids. Kurtosis, the last of the seven classic screens to be defined, needs four prices; with
#: three, the spread, the gaps and the relative distance rest on two differences between
#: prices, a pattern that any honest tender shows now and then.
PRICE_SCREEN_MIN_BIDS = 4
#: ... and flags it for review only at this probability or above (or at the model's own
#: threshold when that is higher). The model is fitted with balanced class weights on cartel
#: data in which about four tenders in ten are collusive, and its threshold maximizes balanced
#: accuracy there: its probability is that of a tender from a population where collusion is as
#: common as competition. At a base rate p the odds shrink by p / (1 - p). At 0.8 (odds 4) a
#: flagged tender is at least as likely collusive as not if one tender in five were, more than
#: a street office should expect; where collusion is rarer most flags are still false alarms,
#: which is why a flag asks a reviewer and decides nothing.
PRICE_SCREEN_MIN_PROBABILITY = 0.8

#: The seven classic screens (Huber & Imhof 2019, Table 2; García Rodríguez et al. 2022).
CLASSIC_SCREENS = ("cv", "spd", "diffp", "rd", "kurt", "skew", "kstest")


# --- Price screens ------------------------------------------------------------------------


def _sorted_bids(bids: pd.DataFrame) -> pd.DataFrame:
    """Bids with a positive, finite price, sorted by tender then price, with rank and count."""
    missing = {"tender", "price"} - set(bids.columns)
    if missing:
        raise ValueError(f"bids: missing column(s) {', '.join(sorted(missing))}")
    frame = bids.copy()
    frame["price"] = pd.to_numeric(frame["price"], errors="coerce").astype(float)
    frame = frame[np.isfinite(frame["price"]) & (frame["price"] > 0)]
    frame = frame.sort_values(["tender", "price"], kind="mergesort").reset_index(drop=True)
    grouped = frame.groupby("tender", sort=False)
    frame["rank"] = grouped.cumcount()
    frame["n"] = grouped["price"].transform("size")
    return frame


def _moments(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Per-tender mean, sample SD, bias-corrected skewness and excess kurtosis of ``column``.

    The same estimators as pandas' ``skew``/``kurt`` (adjusted Fisher-Pearson), from grouped
    sums of powers of the deviations so that it stays vectorized.
    """
    grouped = frame.groupby("tender", sort=False)[column]
    n = grouped.size().astype(float)
    mean = grouped.mean()
    dev = frame[column] - frame["tender"].map(mean)
    powers = pd.DataFrame({"tender": frame["tender"], "d2": dev**2, "d3": dev**3, "d4": dev**4})
    sums = powers.groupby("tender", sort=False)[["d2", "d3", "d4"]].sum()
    m2, m3, m4 = sums["d2"] / n, sums["d3"] / n, sums["d4"] / n
    with np.errstate(divide="ignore", invalid="ignore"):
        sd = np.sqrt(sums["d2"] / (n - 1))
        g1 = m3 / m2**1.5
        skew = np.sqrt(n * (n - 1)) / (n - 2) * g1
        g2 = m4 / m2**2 - 3
        kurt = ((n + 1) * g2 + 6) * (n - 1) / ((n - 2) * (n - 3))
    # Equal bids have no shape: skewness and kurtosis are 0 rather than undefined.
    flat = m2 <= 0
    skew = skew.where(~flat, 0.0).where(n >= 3)
    kurt = kurt.where(~flat, 0.0).where(n >= 4)
    return pd.DataFrame({"n": n, "mean": mean, "sd": sd.where(n >= 2), "skew": skew, "kurt": kurt})


def _screens_of(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """The seven classic screens of ``column`` (sorted ascending within each tender)."""
    moments = _moments(frame, column)
    grouped = frame.groupby("tender", sort=False)[column]
    low, high = grouped.min(), grouped.max()
    n = moments["n"]
    second = frame[frame["rank"] == 1].set_index("tender")[column].reindex(moments.index)
    losing = frame[frame["rank"] >= 1]
    losing_sd = losing.groupby("tender", sort=False)[column].std(ddof=1).reindex(moments.index)
    # Kolmogorov-Smirnov distance between the bids and a uniform distribution on [min, max]
    # (Huber & Imhof 2019): the largest gap between the empirical CDF, just before and at each
    # bid, and the uniform CDF there.
    span = (frame["tender"].map(high) - frame["tender"].map(low)).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        uniform = np.where(span > 0, (frame[column] - frame["tender"].map(low)) / span, 0.0)
    count = frame["n"].to_numpy(dtype=float)
    at = (frame["rank"].to_numpy() + 1) / count
    before = frame["rank"].to_numpy() / count
    gap = np.maximum(np.abs(at - uniform), np.abs(uniform - before))
    kstest = pd.Series(gap).groupby(frame["tender"].to_numpy(), sort=False).max()
    with np.errstate(divide="ignore", invalid="ignore"):
        out = pd.DataFrame(
            {
                "n_bids": n.astype(int),
                "cv": moments["sd"] / moments["mean"],
                "spd": ((high - low) / low).where(n >= 2),
                "diffp": (second - low) / low,
                # Relative distance (Imhof 2017): the gap between the two lowest bids over the
                # SD of the losing bids; needs at least two losing bids.
                "rd": ((second - low) / losing_sd).where(n >= 3),
                "kurt": moments["kurt"],
                "skew": moments["skew"],
                "kstest": kstest.reindex(moments.index),
            }
        )
    return out.replace([np.inf, -np.inf], np.nan)


def tender_screens(bids: pd.DataFrame) -> pd.DataFrame:
    """The seven classic price screens per tender, computed from the bid prices.

    ``bids`` has one row per bid with columns ``tender`` and ``price``. Returns a DataFrame
    indexed by tender with ``n_bids, cv, spd, diffp, rd, kurt, skew, kstest``. A screen that
    needs more bids than the tender has is NaN (cv/spd/diffp need 2, rd/skew 3, kurt 4).
    Bids without a positive price are ignored.
    """
    frame = _sorted_bids(bids)
    screens = _screens_of(frame, "price")
    screens.index.name = "tender"
    return screens


def price_screen(
    bids: pd.DataFrame,
    model: CollusionModel,
    *,
    min_bids: int = PRICE_SCREEN_MIN_BIDS,
    min_probability: float = PRICE_SCREEN_MIN_PROBABILITY,
) -> pd.DataFrame:
    """The tenders whose price distribution ``model`` finds collusive enough for a review.

    ``bids``: one row per bid with ``tender, price`` and optionally ``valid`` (bool; all bids
    count when absent), ``winner`` and ``estimate`` (see :func:`tender_features`). Only valid
    bids with a positive price count; a tender with fewer than ``min_bids`` of them is not
    scored. A tender is returned when its probability reaches ``max(model.threshold,
    min_probability)``. Returns a DataFrame indexed by tender with ``probability``,
    ``threshold`` (the cut-off applied) and the classic screens of :func:`tender_screens`.
    """
    columns = ["probability", "threshold", "n_bids", *CLASSIC_SCREENS]
    frame = bids.copy()
    if "valid" in frame:
        frame = frame[frame["valid"].fillna(False).astype(bool)]
    frame["price"] = pd.to_numeric(frame["price"], errors="coerce").astype(float)
    frame = frame[np.isfinite(frame["price"]) & (frame["price"] > 0)]
    counts = frame.groupby("tender")["price"].transform("size")
    frame = frame[counts >= min_bids]
    if frame.empty:
        return pd.DataFrame(columns=columns).rename_axis("tender")
    threshold = max(float(model.threshold), float(min_probability))
    inputs = [c for c in ("tender", "price", "estimate", "winner") if c in frame.columns]
    probability = model.predict_proba(frame[inputs])
    screens = tender_screens(frame[["tender", "price"]])
    screens["probability"] = probability.reindex(screens.index)
    screens["threshold"] = threshold
    flagged = screens[screens["probability"] >= threshold]
    return flagged[columns].sort_index()


#: Shares of bids within these relative distances of the lowest bid, and of consecutive gaps
#: below them: cover prices and rotation schemes cluster bids (Imhof, Karagök & Rutz 2018).
_CLOSE = (0.005, 0.01, 0.02, 0.05, 0.10)


def tender_features(bids: pd.DataFrame) -> pd.DataFrame:
    """Per-tender features for :class:`CollusionModel`: the classic screens and richer ones.

    Uses ``tender`` and ``price``; optional columns add features when present: ``estimate``
    (the pre-tender estimate) and ``winner`` (1 for the awarded bid). Missing values stay NaN
    (the gradient-boosting model handles them).
    """
    frame = _sorted_bids(bids)
    raw = _screens_of(frame, "price")
    frame["log_price"] = np.log(frame["price"])
    logs = _screens_of(frame, "log_price").drop(columns=["n_bids", "cv", "spd", "diffp"])
    logs = logs.add_prefix("log_")
    tenders = raw.index
    grouped = frame.groupby("tender", sort=False)["price"]
    low = frame["tender"].map(grouped.min())
    median = frame["tender"].map(grouped.median())
    # Relative gap of each bid to the next lower one (NaN for the lowest).
    previous = frame.groupby("tender", sort=False)["price"].shift(1)
    frame["gap"] = (frame["price"] - previous) / previous
    frame["to_low"] = (frame["price"] - low) / low
    frame["to_median"] = (frame["price"] - median).abs() / median
    columns: dict[str, pd.Series] = {}
    by_tender = frame.groupby("tender", sort=False)
    for x in _CLOSE:
        frame[f"_low{x}"] = frame["to_low"] <= x
        frame[f"_gap{x}"] = frame["gap"] <= x
        frame[f"_med{x}"] = frame["to_median"] <= x
    n = raw["n_bids"].astype(float)
    flags = by_tender[[c for c in frame.columns if c.startswith("_")]].sum()
    for x in _CLOSE:
        # The lowest bid itself is always within x of the lowest: count the others.
        columns[f"share_near_low_{x}"] = ((flags[f"_low{x}"] - 1) / (n - 1)).where(n >= 2)
        columns[f"share_gap_below_{x}"] = (flags[f"_gap{x}"] / (n - 1)).where(n >= 2)
        columns[f"share_near_median_{x}"] = flags[f"_med{x}"] / n
    gaps = by_tender["gap"]
    columns["gap_min"] = gaps.min()
    columns["gap_median"] = gaps.median()
    columns["gap_max"] = gaps.max()
    columns["gap_mean"] = gaps.mean()
    # Ratio of the gap between the two lowest to the typical gap among the losing bids: a
    # designated winner often sits apart from a tight pack of cover bids.
    losing_gaps = frame[frame["rank"] >= 2].groupby("tender", sort=False)["gap"]
    columns["gap12_over_losing_gap"] = raw["diffp"] / losing_gaps.mean().reindex(tenders)
    lowest = frame[frame["rank"] < 4].pivot(index="tender", columns="rank", values="price")
    lowest = lowest.reindex(index=tenders, columns=range(4))
    for k in (2, 3):
        columns[f"gap{k}{k + 1}"] = (lowest[k] - lowest[k - 1]) / lowest[k - 1]
    columns["second_over_median"] = lowest[1] / grouped.median()
    columns["low_over_median"] = lowest[0] / grouped.median()
    columns["low_over_mean_others"] = lowest[0] / ((grouped.sum() - lowest[0]) / (n - 1)).where(
        n >= 2
    )
    columns["iqr_over_median"] = (grouped.quantile(0.75) - grouped.quantile(0.25)) / (
        grouped.median()
    )
    columns["n_distinct_share"] = by_tender["price"].nunique() / n
    # Round numbers: cover bids are often made up rather than costed.
    cents = np.round(frame["price"] * 100) % 100000
    frame["_round"] = cents == 0
    columns["share_round"] = frame.groupby("tender", sort=False)["_round"].mean()
    if "estimate" in frame.columns:
        estimate = pd.to_numeric(frame["estimate"], errors="coerce").astype(float)
        frame["rel"] = frame["price"] / estimate.where(estimate > 0)
        rel = frame.groupby("tender", sort=False)["rel"]
        for name, values in (
            ("rel_min", rel.min()),
            ("rel_mean", rel.mean()),
            ("rel_median", rel.median()),
            ("rel_max", rel.max()),
            ("rel_sd", rel.std()),
        ):
            columns[name] = values
        columns["log_estimate"] = np.log(
            estimate.where(estimate > 0).groupby(frame["tender"], sort=False).first()
        )
    if "winner" in frame.columns:
        won = frame[pd.to_numeric(frame["winner"], errors="coerce").fillna(0) > 0]
        won = won.groupby("tender", sort=False).agg(price=("price", "min"), rank=("rank", "min"))
        won = won.reindex(tenders)
        columns["winner_rank_share"] = won["rank"] / n
        columns["winner_over_low"] = won["price"] / lowest[0]
        columns["winner_over_median"] = won["price"] / grouped.median()
    features = pd.concat([raw, logs, pd.DataFrame(columns, index=tenders)], axis=1)
    features["log_n_bids"] = np.log(n)
    features = features.replace([np.inf, -np.inf], np.nan).astype(float)
    features.index.name = "tender"
    return features


# --- Red flags ----------------------------------------------------------------------------

#: Columns of every red-flag, link and bias result.
FLAG_COLUMNS = ["flag", "tender", "org", "evidence"]


def _plain(value: Any) -> Any:
    """A JSON-serializable Python value from a numpy/pandas scalar (evidence is stored as JSON)."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return None if not np.isfinite(value) else round(value, 6)
    if value is pd.NaT or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def _flags(flag: str, rows: pd.DataFrame, evidence: dict[str, str], **fixed: Any) -> pd.DataFrame:
    """Result rows: one per row of ``rows``, evidence keys taken from the named columns."""
    if rows.empty:
        return pd.DataFrame(columns=FLAG_COLUMNS)
    records = rows[list(evidence.values())].to_dict("records")
    out = pd.DataFrame(
        {
            "flag": flag,
            "tender": [_plain(t) for t in rows["tender"]] if "tender" in rows else None,
            "org": [_plain(o) for o in rows["org"]] if "org" in rows else None,
            "evidence": [
                {key: _plain(record[column]) for key, column in evidence.items()} | fixed
                for record in records
            ],
        }
    )
    return out[FLAG_COLUMNS]


def _valid_bids(bids: pd.DataFrame) -> pd.DataFrame:
    """Bids that count for the tender (``valid`` column, all when absent), sorted by price."""
    for column in ("tender", "bid", "price"):
        if column not in bids.columns:
            raise ValueError(f"bids: missing column {column}")
    frame = bids.copy()
    if "org" not in frame:
        frame["org"] = None
    frame["price"] = pd.to_numeric(frame["price"], errors="coerce").astype(float)
    if "valid" in frame:
        frame = frame[frame["valid"].fillna(False).astype(bool)]
    return frame.sort_values(["tender", "price", "bid"], kind="mergesort").reset_index(drop=True)


def _winners(valid: pd.DataFrame) -> pd.DataFrame:
    """One row per tender: the winning bid (``winner`` column, else the lowest valid price).

    Decided per tender: a tender not yet awarded takes its lowest price even when other
    tenders in the frame have winners marked."""
    priced = valid[valid["price"].notna()]
    if "winner" not in valid:
        return priced.drop_duplicates("tender", keep="first").set_index("tender")
    marked = priced[priced["winner"].fillna(0).astype(bool)]
    unawarded = priced[~priced["tender"].isin(marked["tender"])]
    won = pd.concat([marked, unawarded])
    return won.drop_duplicates("tender", keep="first").set_index("tender")


def single_valid_bid(bids: pd.DataFrame) -> pd.DataFrame:
    """R018 "single bid received": tenders with exactly one valid bid.

    ``bids``: ``tender, bid, org, price`` and optionally ``valid`` (bool).
    """
    valid = _valid_bids(bids)
    counts = valid.groupby("tender")["bid"].transform("size")
    received = bids.groupby("tender")["bid"].size()
    rows = valid[counts == 1].copy()
    rows["received"] = rows["tender"].map(received)
    return _flags("R018", rows, {"bid": "bid", "price": "price", "bids_received": "received"})


def identical_prices(bids: pd.DataFrame, *, tolerance: float = R028_TOLERANCE) -> pd.DataFrame:
    """R028 "identical bid prices": two or more valid bids of one tender at the same price.

    One row per tender and price, listing every bid and organization at that price.
    """
    valid = _valid_bids(bids).dropna(subset=["price"])
    # Bucket prices by the tolerance so that 100.001 and 100.004 count as equal.
    valid["bucket"] = np.round(valid["price"] / (2 * tolerance)).astype("int64")
    sizes = valid.groupby(["tender", "bucket"])["bid"].transform("size")
    same = valid[sizes >= 2]
    if same.empty:
        return pd.DataFrame(columns=FLAG_COLUMNS)
    rows = (
        same.groupby(["tender", "bucket"], sort=True)
        .agg(price=("price", "min"), bids=("bid", list), orgs=("org", list))
        .reset_index()
    )
    return _flags("R028", rows, {"price": "price", "bids": "bids", "orgs": "orgs"})


def _winner_against_rest(bids: pd.DataFrame) -> pd.DataFrame:
    """Per tender: the winner, the lowest other valid price and the mean of the others."""
    valid = _valid_bids(bids).dropna(subset=["price"])
    winners = _winners(valid)
    valid = valid.join(winners[["bid"]].rename(columns={"bid": "winning_bid"}), on="tender")
    others = valid[valid["bid"] != valid["winning_bid"]].groupby("tender")["price"]
    rest = pd.DataFrame(
        {
            "bid": winners["bid"],
            "org": winners["org"],
            "price": winners["price"],
            "next_price": others.min(),
            "others_mean": others.mean(),
            "others": others.size(),
        }
    ).dropna(subset=["bid", "next_price"])
    rest.index.name = "tender"
    return rest.reset_index()


def close_second_price(bids: pd.DataFrame, *, max_gap: float = R024_MAX_GAP) -> pd.DataFrame:
    """R024 "price close to winning bid": the nearest other bid is within ``max_gap`` of it.

    The winner is the bid with ``winner`` set, or the lowest valid price when none is.
    """
    rest = _winner_against_rest(bids)
    rest["gap"] = (rest["next_price"] - rest["price"]).abs() / rest["price"]
    rows = rest[rest["gap"] <= max_gap]
    return _flags(
        "R024",
        rows,
        {"bid": "bid", "price": "price", "next_price": "next_price", "gap": "gap"},
        threshold=max_gap,
    )


def winner_far_below(
    bids: pd.DataFrame, *, min_discount: float = R058_MIN_DISCOUNT
) -> pd.DataFrame:
    """R058 "heavily discounted bid": the winner is ``min_discount`` below the others' mean."""
    rest = _winner_against_rest(bids)
    rest["discount"] = 1 - rest["price"] / rest["others_mean"]
    rows = rest[rest["discount"] >= min_discount]
    return _flags(
        "R058",
        rows,
        {
            "bid": "bid",
            "price": "price",
            "others_mean": "others_mean",
            "other_bids": "others",
            "discount": "discount",
        },
        threshold=min_discount,
    )


def frequent_losing_bidder(
    bids: pd.DataFrame,
    *,
    min_bids: int = R025_MIN_BIDS,
    min_loss_share: float = R025_MIN_LOSS_SHARE,
) -> pd.DataFrame:
    """R025 "frequent losing bidder": an organization that bids often and nearly always loses.

    Across tenders; only tenders with a winner count (``winner`` column, else lowest price).
    One row per organization (``tender`` is None).
    """
    valid = _valid_bids(bids).dropna(subset=["org"])
    winners = _winners(valid)
    decided = valid[valid["tender"].isin(winners.index)].copy()
    decided["won"] = decided["bid"].isin(winners["bid"])
    per_org = decided.groupby("org").agg(
        bids=("bid", "size"), wins=("won", "sum"), tenders=("tender", lambda t: sorted(set(t)))
    )
    per_org["loss_share"] = 1 - per_org["wins"] / per_org["bids"]
    rows = per_org[(per_org["bids"] >= min_bids) & (per_org["loss_share"] >= min_loss_share)]
    rows = rows.reset_index()
    rows["tender"] = None
    return _flags(
        "R025",
        rows,
        {"bids": "bids", "wins": "wins", "loss_share": "loss_share", "tenders": "tenders"},
        min_bids=min_bids,
        threshold=min_loss_share,
    )


def short_submission_period(tenders: pd.DataFrame) -> pd.DataFrame:
    """R003 "short submission period": fewer days between notice and deadline than the minimum.

    ``tenders``: ``tender, published, deadline`` (datetimes or dates) and optionally ``method``
    (a key of :data:`R003_MIN_DAYS`; others use :data:`R003_DEFAULT_MIN_DAYS`).
    """
    frame = tenders.copy()
    published = pd.to_datetime(frame["published"], utc=True, format="ISO8601")
    deadline = pd.to_datetime(frame["deadline"], utc=True, format="ISO8601")
    # Calendar days; the day of publication does not count (民法典 Art. 201).
    frame["days"] = (deadline.dt.normalize() - published.dt.normalize()).dt.days
    method = frame["method"] if "method" in frame else pd.Series(None, index=frame.index)
    frame["minimum"] = method.map(R003_MIN_DAYS).fillna(R003_DEFAULT_MIN_DAYS).astype(int)
    frame["method"] = method
    rows = frame[frame["days"].notna() & (frame["days"] < frame["minimum"])]
    return _flags("R003", rows, {"days": "days", "minimum_days": "minimum", "method": "method"})


def red_flags(bids: pd.DataFrame, tenders: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every red flag above in one frame (R003 only when ``tenders`` is given)."""
    parts = [
        single_valid_bid(bids),
        identical_prices(bids),
        close_second_price(bids),
        winner_far_below(bids),
        frequent_losing_bidder(bids),
    ]
    if tenders is not None:
        parts.append(short_submission_period(tenders))
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame(columns=FLAG_COLUMNS)
    return pd.concat(parts, ignore_index=True)


# --- Links between competing bidders -------------------------------------------------------

#: Link kinds and how their values are normalized before comparison.
LINK_KINDS = {
    "people": "shared_person",
    "phones": "shared_phone",
    "addresses": "shared_address",
    "legal_rep": "shared_legal_representative",
    "doc_hashes": "identical_document",
}


def _normalize(kind: str, values: pd.Series) -> pd.Series:
    """Comparable values: phones as digits (no +86), text as NFKC lower case without spaces."""
    text = values.astype(str).str.normalize("NFKC").str.strip()
    if kind == "phones":
        text = text.str.replace(r"\D", "", regex=True).str.replace(
            r"^(?:0086|86)(?=1\d{10}$)", "", regex=True
        )
    elif kind in {"addresses", "legal_rep"}:
        text = text.str.lower().str.replace(r"[\s,，。.、#-]", "", regex=True)
    elif kind == "doc_hashes":
        text = text.str.lower()
    return text


#: Columns of the record pairs that :func:`bidder_links` takes for one person.
_SAME_COLUMNS = ["person_a", "person_b", "probability", "fields"]


def _same_person_pairs(records: np.ndarray, person_links: pd.DataFrame | None) -> pd.DataFrame:
    """Ordered pairs of person records taken for one human: each record with itself, and the
    pairs of ``person_links`` (``left_id, right_id, probability``, optional ``evidence``) both
    ways round."""
    parts = [pd.DataFrame({"person_a": records, "person_b": records, "probability": 1.0})]
    if person_links is not None and not person_links.empty:
        links = person_links[person_links["left_id"] != person_links["right_id"]]
        fields = links["evidence"] if "evidence" in links else pd.Series(None, index=links.index)
        forward = pd.DataFrame(
            {
                "person_a": links["left_id"].to_numpy(),
                "person_b": links["right_id"].to_numpy(),
                "probability": links["probability"].astype(float).to_numpy(),
                "fields": fields.to_numpy(),
            }
        )
        backward = forward.rename(columns={"person_a": "person_b", "person_b": "person_a"})
        parts += [forward, backward]
    same = pd.concat(parts, ignore_index=True)
    # A pair linked twice keeps its highest probability.
    same = same.sort_values("probability", ascending=False, kind="stable")
    same = same.drop_duplicates(["person_a", "person_b"]).reindex(columns=_SAME_COLUMNS)
    return same.reset_index(drop=True)


def _competing(long: pd.DataFrame, key_a: str, key_b: str, same: pd.DataFrame) -> pd.DataFrame:
    """Pairs of competing bids (different organizations, one tender) whose ``key_a`` and
    ``key_b`` records are one person (by ``same``); each unordered pair of bids once."""
    a = long.rename(columns={"bid": "bid_a", "org": "org_a", key_a: "person_a"})
    b = long.rename(columns={"bid": "bid_b", "org": "org_b", key_b: "person_b"})
    pairs = a.merge(same, on="person_a").merge(b, on=["tender", "person_b"])
    # Two bids of one organization in one tender are not a link (and are refused elsewhere).
    return pairs[
        (pairs["org_a"] != pairs["org_b"])
        & (pairs["bid_a"].astype(str) < pairs["bid_b"].astype(str))
    ]


def _people_links(bids: pd.DataFrame, same: pd.DataFrame) -> pd.DataFrame:
    """``shared_person`` rows: competing bids whose staffing plans hold one person, as the same
    record or as two records that record linkage takes for one person."""
    long = bids[["tender", "bid", "org", "people"]].explode("people").dropna(subset=["people"])
    long = long.rename(columns={"people": "person"}).drop_duplicates(["tender", "bid", "person"])
    pairs = _competing(long, "person", "person", same)
    if pairs.empty:
        return pd.DataFrame(columns=FLAG_COLUMNS)
    pairs = pairs.sort_values(
        ["tender", "bid_a", "bid_b", "probability", "person_a", "person_b"],
        ascending=[True, True, True, False, True, True],
        kind="stable",
    )
    pairs["person"] = [
        {
            "a": _plain(a),
            "b": _plain(b),
            "probability": _plain(float(p)),
            "fields": {str(k): _plain(v) for k, v in fields.items()}
            if isinstance(fields, Mapping)
            else {},
        }
        for a, b, p, fields in zip(
            pairs["person_a"], pairs["person_b"], pairs["probability"], pairs["fields"], strict=True
        )
    ]
    rows = (
        pairs.groupby(["tender", "bid_a", "bid_b"], sort=True)
        .agg(
            org_a=("org_a", "first"),
            org_b=("org_b", "first"),
            people=("person", list),
            probability=("probability", "max"),
        )
        .reset_index()
    )
    rows["bids"] = list(zip(rows["bid_a"], rows["bid_b"], strict=True))
    rows["orgs"] = list(zip(rows["org_a"], rows["org_b"], strict=True))
    rows["org"] = rows["org_a"]
    return _flags(
        "shared_person",
        rows,
        {"bids": "bids", "orgs": "orgs", "people": "people", "probability": "probability"},
        kind="people",
    )


def _carried_phones(bids: pd.DataFrame, same: pd.DataFrame) -> pd.DataFrame:
    """(tender, bid_a, bid_b, value) of phones that two competing bids share only because one
    person, already a ``shared_person`` link, is on both staffing plans."""
    columns = ["tender", "bid_a", "bid_b", "value"]
    if "people_phones" not in bids:
        return pd.DataFrame(columns=columns)
    long = bids[["tender", "bid", "org", "people_phones"]].explode("people_phones")
    long = long.dropna(subset=["people_phones"])
    if long.empty:
        return pd.DataFrame(columns=columns)
    long = long.reset_index(drop=True)
    long["person"] = [item[0] for item in long["people_phones"]]
    long["value"] = _normalize("phones", pd.Series([item[1] for item in long["people_phones"]]))
    long = long.drop(columns="people_phones")
    pairs = _competing(long, "person", "person", same)
    pairs = pairs[pairs["value_x"] == pairs["value_y"]].rename(columns={"value_x": "value"})
    return pairs[columns].drop_duplicates()


def bidder_links(bids: pd.DataFrame, *, person_links: pd.DataFrame | None = None) -> pd.DataFrame:
    """Competing bids of different organizations that share a person, phone, address, legal
    representative or an identical document.

    ``bids``: one row per bid with ``tender, bid, org`` and any of the columns ``people``,
    ``phones``, ``addresses``, ``legal_rep``, ``doc_hashes`` (each a value or a list of values;
    people are person record ids) and ``people_phones`` (a list of ``(person, phone)`` of the
    people on the staffing plan). One row per tender, pair of bids and kind, with the shared
    values.

    ``person_links`` (``left_id, right_id, probability`` and optionally ``evidence``, as
    :func:`evaluation.linkage.link` returns them) are pairs of person records taken for one
    person: two records of one human on competing bids are a shared person, with the link's
    probability (1 for the same record). Phones compare the organizations' and the staff's
    numbers; a phone two bids share only because the person who carries it is on both is
    not a second link.
    """
    parts = []
    same = pd.DataFrame(columns=_SAME_COLUMNS)
    if "people" in bids or "people_phones" in bids:
        records = [bids[c].explode().dropna() for c in ("people",) if c in bids]
        if "people_phones" in bids:
            owners = bids["people_phones"].explode().dropna()
            records.append(pd.Series([item[0] for item in owners], dtype=object))
        ids = pd.concat(records, ignore_index=True) if records else pd.Series(dtype=object)
        same = _same_person_pairs(pd.unique(ids.to_numpy()), person_links)
    if "people" in bids:
        parts.append(_people_links(bids, same))
    carried = _carried_phones(bids, same)
    for column, flag in LINK_KINDS.items():
        staff_phones = column == "phones" and "people_phones" in bids
        if column == "people" or (column not in bids and not staff_phones):
            continue
        long = bids[["tender", "bid", "org"]].assign(**{column: bids.get(column)})
        if staff_phones:
            staff = bids[["tender", "bid", "org", "people_phones"]].explode("people_phones")
            staff = staff.dropna(subset=["people_phones"]).reset_index(drop=True)
            staff[column] = [item[1] for item in staff["people_phones"]]
            long = pd.concat([long, staff.drop(columns="people_phones")], ignore_index=True)
        long = long.explode(column).dropna(subset=[column])
        if long.empty:
            continue
        long["value"] = _normalize(column, long[column])
        long = long[long["value"] != ""].drop_duplicates(["tender", "bid", "value"])
        pairs = long.merge(long, on=["tender", "value"], suffixes=("_a", "_b"))
        # Each unordered pair of different organizations once; two bids of one organization in
        # one tender are not a link (and are refused elsewhere).
        pairs = pairs[
            (pairs["org_a"] != pairs["org_b"])
            & (pairs["bid_a"].astype(str) < pairs["bid_b"].astype(str))
        ]
        if column == "phones" and not carried.empty:
            keys = ["tender", "bid_a", "bid_b", "value"]
            marked = pairs[keys].merge(carried.assign(_carried=True), on=keys, how="left")
            pairs = pairs[~marked["_carried"].fillna(False).astype(bool).to_numpy()]
        if pairs.empty:
            continue
        grouped = pairs.groupby(["tender", "bid_a", "bid_b"], sort=True).agg(
            org_a=("org_a", "first"), org_b=("org_b", "first"), values=("value", sorted)
        )
        rows = grouped.reset_index()
        if column == "phones":
            # Under the key "phone", which the flag pages mask for all but auditors.
            rows["values"] = [[{"phone": v} for v in values] for values in rows["values"]]
        rows["bids"] = list(zip(rows["bid_a"], rows["bid_b"], strict=True))
        rows["orgs"] = list(zip(rows["org_a"], rows["org_b"], strict=True))
        rows["org"] = rows["org_a"]
        parts.append(
            _flags(flag, rows, {"bids": "bids", "orgs": "orgs", "values": "values"}, kind=column)
        )
    parts = [part for part in parts if not part.empty]
    if not parts:
        return pd.DataFrame(columns=FLAG_COLUMNS)
    return pd.concat(parts, ignore_index=True)


# --- Assessor bias -------------------------------------------------------------------------


#: Rounds of alternating means when fitting the additive score model (converges in a few).
_EFFECT_ROUNDS = 25


def _effects(scores: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Fit score = item effect + assessor effect + residual, by alternating means.

    An item is one bid's criterion in one tender. Scores are divided by ``points`` when given,
    so criteria of different sizes compare. Fitting both effects together keeps one lenient
    member from making the rest of its panels look severe, which a plain comparison with the
    panel mean does. Returns the scores with ``residual`` and the assessor effects (median 0).
    """
    for column in ("tender", "assessor", "bid", "score"):
        if column not in scores:
            raise ValueError(f"scores: missing column {column}")
    frame = scores.copy()
    if "criterion" not in frame:
        frame["criterion"] = ""
    if "org" not in frame:
        frame["org"] = frame["bid"]
    value = pd.to_numeric(frame["score"], errors="coerce").astype(float)
    if "points" in frame:
        value = value / pd.to_numeric(frame["points"], errors="coerce").astype(float)
    frame["value"] = value
    frame = frame[np.isfinite(frame["value"])]
    item_keys = ["tender", "bid", "criterion"]
    frame = frame[frame.groupby(item_keys, sort=False)["value"].transform("size") >= 2].copy()
    item = frame.groupby(item_keys, sort=False).ngroup().to_numpy()
    codes, assessors = pd.factorize(frame["assessor"])
    values = frame["value"].to_numpy()
    item_count = np.bincount(item).astype(float)
    assessor_count = np.bincount(codes, minlength=len(assessors)).astype(float)
    assessor_effect = np.zeros(len(assessors))
    item_effect = np.zeros(item_count.size)
    for _ in range(_EFFECT_ROUNDS):
        item_effect = np.bincount(item, values - assessor_effect[codes]) / item_count
        assessor_effect = (
            np.bincount(codes, values - item_effect[item], minlength=len(assessors))
            / assessor_count
        )
        # Centred on the median assessor: most members are fair, so one lenient member must
        # not make the others look severe (a mean would share its leniency out among them).
        assessor_effect -= np.median(assessor_effect) if assessor_effect.size else 0.0
    frame["residual"] = values - item_effect[item] - assessor_effect[codes]
    return frame, pd.Series(assessor_effect, index=assessors)


def assessor_deviation(
    scores: pd.DataFrame, *, min_scores: int = BIAS_MIN_SCORES, min_z: float = BIAS_MIN_Z
) -> pd.DataFrame:
    """Assessors whose scores sit systematically above or below the rest of their panels.

    ``scores``: ``tender, assessor, bid, score`` and optionally ``org``, ``criterion``,
    ``points``. The deviation is the assessor's effect in an additive model of the scores
    (a share of the criterion's points); its z-score divides it by the standard error from
    the residual spread of all scores.
    """
    frame, effects = _effects(scores)
    if frame.empty:
        return pd.DataFrame(columns=FLAG_COLUMNS)
    spread = frame["residual"].std(ddof=1)
    per = frame.groupby("assessor").agg(scores=("residual", "size"), tenders=("tender", "nunique"))
    per["mean_deviation"] = effects.reindex(per.index)
    per["z"] = per["mean_deviation"] / (spread / np.sqrt(per["scores"])) if spread > 0 else 0.0
    per["direction"] = np.where(per["mean_deviation"] > 0, "lenient", "severe")
    rows = per[(per["scores"] >= min_scores) & (per["z"].abs() >= min_z)].reset_index()
    rows["tender"] = None
    return _flags(
        "assessor_deviation",
        rows,
        {
            "assessor": "assessor",
            "scores": "scores",
            "tenders": "tenders",
            "mean_deviation": "mean_deviation",
            "z": "z",
            "direction": "direction",
        },
        min_scores=min_scores,
        threshold=min_z,
    )


def assessor_affinity(
    scores: pd.DataFrame,
    *,
    min_tenders: int = AFFINITY_MIN_TENDERS,
    min_z: float = AFFINITY_MIN_Z,
    min_share: float = AFFINITY_MIN_SHARE,
) -> pd.DataFrame:
    """Assessor-organization pairs where the assessor scores that organization above what the
    other assessors and its own general leniency predict, in most of the tenders both were in.

    The excess in one tender is the assessor's mean residual on the organization's bid (the
    additive model already takes out the bid's quality and the assessor's leniency, so a
    generally lenient assessor is not partial to everyone).
    """
    frame, _ = _effects(scores)
    if frame.empty:
        return pd.DataFrame(columns=FLAG_COLUMNS)
    per_tender = (
        frame.groupby(["assessor", "org", "tender"], sort=False)["residual"]
        .mean()
        .rename("excess")
        .reset_index()
    )
    spread = per_tender["excess"].std(ddof=1)
    per_tender["above"] = per_tender["excess"] > 0
    pairs = per_tender.groupby(["assessor", "org"]).agg(
        tenders=("tender", lambda t: sorted(set(t))),
        n_tenders=("tender", "nunique"),
        mean_excess=("excess", "mean"),
        above_share=("above", "mean"),
    )
    pairs["z"] = pairs["mean_excess"] / (spread / np.sqrt(pairs["n_tenders"])) if spread > 0 else 0
    rows = pairs[
        (pairs["n_tenders"] >= min_tenders)
        & (pairs["z"] >= min_z)
        & (pairs["above_share"] >= min_share)
    ].reset_index()
    rows["tender"] = None
    return _flags(
        "assessor_affinity",
        rows,
        {
            "assessor": "assessor",
            "tenders": "tenders",
            "mean_excess": "mean_excess",
            "above_share": "above_share",
            "z": "z",
        },
        min_tenders=min_tenders,
        threshold=min_z,
    )


# --- Collusion model -----------------------------------------------------------------------

#: Gradient boosting settings, chosen on the six public cartel datasets (docs/benchmarks.md):
#: shallow trees and L2 regularization because the smallest dataset has about 100 tenders.
MODEL_PARAMS: dict[str, Any] = {
    "max_iter": 150,
    "learning_rate": 0.1,
    "max_leaf_nodes": 15,
    "min_samples_leaf": 10,
    "l2_regularization": 1.0,
    "class_weight": "balanced",
}
#: Training sets with fewer tenders than this add a forest to the boosting model ...
FOREST_BELOW_TENDERS = 1000
#: ... this forest (class weights per bootstrap sample).
FOREST_PARAMS: dict[str, Any] = {
    "n_estimators": 200,
    "min_samples_leaf": 2,
    "class_weight": "balanced_subsample",
    "n_jobs": 1,
}
#: Features left out of the model: they tell which market a tender comes from rather than how
#: its prices are spread. Pooled, the public datasets differ in their share of cartels (the
#: Swiss GR/See-Gaster set, 74 % collusive, has most of the tenders without an estimate and
#: with many bids), so the bid count, the size of the estimate and round prices (whole
#: thousands in Japan) let a model learn the dataset's base rate instead of a price pattern,
#: and score honest tenders by how many bids they have (docs/benchmarks.md). The winner's rank
#: and margin are left out too: the price screen also reads tenders not yet awarded, where
#: they are missing, which the public data (every tender awarded) never shows the model; and
#: outside Italy the winner is the lowest bid in 98 % of the public tenders, which says little.
SOURCE_FEATURES = (
    "n_bids",
    "log_n_bids",
    "log_estimate",
    "share_round",
    "winner_rank_share",
    "winner_over_low",
    "winner_over_median",
)
#: When training on several sources, class weights balance each (source, bid count) cell; bid
#: counts from this one up share a cell (16 % of the public tenders, mostly Italy and Japan,
#: where a dozen bids or more is common and a cell per count would hold few tenders).
BALANCE_MAX_BIDS = 10
#: Folds of the training data used to choose the decision threshold (never the test data).
THRESHOLD_FOLDS = 3
#: ... repeated with this many different shuffles.
THRESHOLD_REPEATS = 3
#: Types a saved model may contain; anything else in the file is refused before loading.
_TRUSTED_TYPES = frozenset(
    {
        "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
        "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        "sklearn.tree._tree.Tree",
        "sklearn.utils._bunch.Bunch",
        "sklearn._loss.loss.HalfBinomialLoss",
        "sklearn._loss.link.LogitLink",
        "sklearn._loss.link.Interval",
        "sklearn._loss._loss.CyHalfBinomialLoss",
        "collections.OrderedDict",
        "numpy.dtype",
        "builtins.slice",
    }
)


def _best_threshold(labels: np.ndarray, probabilities: np.ndarray) -> float:
    """The cut-off that maximizes balanced accuracy on out-of-fold probabilities."""
    candidates = np.unique(np.round(probabilities, 4))
    if candidates.size == 0:
        return 0.5
    positives = labels == 1
    n_pos, n_neg = max(positives.sum(), 1), max((~positives).sum(), 1)
    # Every candidate at once: a (candidates x tenders) comparison, small for these data.
    above = probabilities[None, :] >= candidates[:, None]
    score = (above[:, positives].sum(1) / n_pos + (~above[:, ~positives]).sum(1) / n_neg) / 2
    best = np.flatnonzero(score == score.max())
    # Among equally good cut-offs, the middle one is the least sensitive to small shifts; and
    # the cut-off sits halfway down to the next lower probability rather than exactly on a
    # training tender's value, which a new tender just below it would miss.
    chosen = int(best[len(best) // 2])
    below = candidates[chosen - 1] if chosen > 0 else 0.0
    return float((candidates[chosen] + below) / 2)


def _cell_weights(features: pd.DataFrame, y: np.ndarray, sources: pd.Series) -> np.ndarray:
    """Sample weights that give both classes the same weight within every (source, bid count)
    cell, in proportion to the cell's size; a cell with one class only gets no weight, as it
    says nothing about how cartels and competitors differ there (mean weight 1)."""
    source = pd.Series(sources).reindex(features.index)
    if source.isna().any():
        missing = source.index[source.isna()]
        raise ValueError(f"sources: no source for {len(missing)} tender(s), e.g. {missing[0]}")
    cells = pd.DataFrame(
        {
            "source": source.astype(str).to_numpy(),
            "bids": np.minimum(features["n_bids"].to_numpy(), BALANCE_MAX_BIDS),
            "y": y,
        }
    )
    by_cell = cells.groupby(["source", "bids"])["y"]
    size = by_cell.transform("size")
    classes = by_cell.transform("nunique")
    per_class = cells.groupby(["source", "bids", "y"])["y"].transform("size")
    weights = (size / (2 * per_class)).where(classes == 2, 0.0).to_numpy(dtype=float)
    if weights.sum() <= 0:
        raise ValueError("sources: no source and bid count has both classes")
    return weights / weights.mean()


@dataclass
class CollusionModel:
    """A classifier of tenders as collusive from their bids' prices: gradient boosting and a
    random forest voting on :func:`tender_features` (``params`` given: boosting alone, with
    those settings, which the fast unit tests use).

    ``fit(bids, labels)``: ``bids`` one row per bid with ``tender, price`` (optionally
    ``estimate`` and ``winner``, see :func:`tender_features`), ``labels`` 0/1 indexed by tender.
    The decision threshold for :meth:`predict` maximizes balanced accuracy on out-of-fold
    predictions within the training data. The :data:`SOURCE_FEATURES` are not used; with
    ``sources`` (the dataset of each tender, indexed by tender) the tenders are weighted so
    that both classes weigh the same within each source and bid count, and neither the source
    nor the number of bids predicts collusion by itself.
    """

    random_state: int = 0
    params: dict[str, Any] | None = None
    estimator: Any = None
    threshold: float = 0.5
    features: list[str] | None = None

    def _new_estimator(self, tenders: int, *, weighted: bool = False) -> Any:
        from sklearn.ensemble import (
            HistGradientBoostingClassifier,
            RandomForestClassifier,
            VotingClassifier,
        )

        params = dict(self.params or MODEL_PARAMS)
        forest_params = dict(FOREST_PARAMS)
        if weighted:
            # The sample weights already balance the classes, cell by cell.
            params.pop("class_weight", None)
            forest_params.pop("class_weight", None)
        boosting = HistGradientBoostingClassifier(**params, random_state=self.random_state)
        if self.params is not None or tenders >= FOREST_BELOW_TENDERS:
            return boosting
        # Soft vote with a forest on small training sets, where the forest's averaging steadies
        # the boosting (Ticino, Brazil, Italy); on large ones boosting alone is as good, and
        # the forest would make the model file tens of megabytes.
        forest = RandomForestClassifier(**forest_params, random_state=self.random_state)
        return VotingClassifier([("boosting", boosting), ("forest", forest)], voting="soft")

    def _matrix(self, bids: pd.DataFrame) -> pd.DataFrame:
        features = tender_features(bids)
        if self.features is not None:
            features = features.reindex(columns=self.features)
        return features

    def fit(
        self, bids: pd.DataFrame, labels: pd.Series, *, sources: pd.Series | None = None
    ) -> CollusionModel:
        from sklearn.model_selection import StratifiedKFold, cross_val_predict

        features = tender_features(bids)
        labels = pd.Series(labels).astype(int)
        unknown = features.index.difference(labels.index)
        if len(unknown):
            raise ValueError(f"labels: no label for {len(unknown)} tender(s), e.g. {unknown[0]}")
        y = labels.reindex(features.index).to_numpy()
        if len(np.unique(y)) < 2:
            raise ValueError("labels: both classes (0 and 1) are needed to fit")
        weights = None if sources is None else _cell_weights(features, y, sources)
        weighted = weights is not None
        fit_params = {} if weights is None else {"sample_weight": weights}
        features = features.drop(columns=list(SOURCE_FEATURES), errors="ignore")
        self.features = list(features.columns)
        folds = min(THRESHOLD_FOLDS, int(np.bincount(y).min()))
        if folds >= 2:
            # Out-of-fold probabilities averaged over several shuffles: one split of a small
            # dataset (Ticino has about 40 competitive tenders) gives a noisy threshold.
            oof = np.zeros(len(y))
            for repeat in range(THRESHOLD_REPEATS):
                splitter = StratifiedKFold(
                    folds, shuffle=True, random_state=self.random_state + repeat
                )
                oof += cross_val_predict(
                    self._new_estimator(len(y), weighted=weighted),
                    features,
                    y,
                    cv=splitter,
                    method="predict_proba",
                    params=fit_params,
                )[:, 1]
            self.threshold = _best_threshold(y, oof / THRESHOLD_REPEATS)
        self.estimator = self._new_estimator(len(y), weighted=weighted).fit(
            features, y, **fit_params
        )
        return self

    def _check_fitted(self) -> None:
        if self.estimator is None:
            raise ValueError("CollusionModel is not fitted: call fit() or load() first")

    def predict_proba(self, bids: pd.DataFrame) -> pd.Series:
        """Collusion probability per tender (a Series indexed by tender)."""
        self._check_fitted()
        features = self._matrix(bids)
        if features.empty:
            return pd.Series(dtype=float, name="probability", index=features.index)
        probability = self.estimator.predict_proba(features)[:, 1]
        return pd.Series(probability, index=features.index, name="probability")

    def predict(self, bids: pd.DataFrame) -> pd.Series:
        """0/1 per tender at the threshold chosen in :meth:`fit`."""
        return (self.predict_proba(bids) >= self.threshold).astype(int).rename("collusive")

    def save(self, path: str | Path) -> str:
        """Write the fitted model in skops format (no pickle); return the file's SHA-256,
        which is also written next to it as ``<file>.sha256``."""
        import skops.io as sio

        self._check_fitted()
        state = {
            "format": 1,
            "estimator": self.estimator,
            "threshold": float(self.threshold),
            "features": list(self.features or []),
            "random_state": self.random_state,
        }
        data = sio.dumps(state)
        path = Path(path)
        path.write_bytes(data)
        digest = hashlib.sha256(data).hexdigest()
        path.with_name(path.name + ".sha256").write_text(f"{digest}  {path.name}\n")
        return digest

    @classmethod
    def load(cls, path: str | Path) -> CollusionModel:
        """Read a model written by :meth:`save`, after checking its SHA-256 and that it holds
        only the expected scikit-learn types."""
        import skops.io as sio

        path = Path(path)
        data = path.read_bytes()
        recorded = path.with_name(path.name + ".sha256")
        if recorded.exists():
            expected = recorded.read_text().split()[0]
            if hashlib.sha256(data).hexdigest() != expected:
                raise ValueError(f"{path.name}: SHA-256 does not match {recorded.name}")
        untrusted = set(sio.get_untrusted_types(data=data))
        unexpected = untrusted - _TRUSTED_TYPES
        if unexpected:
            raise ValueError(f"{path.name}: unexpected types {', '.join(sorted(unexpected))}")
        state = sio.loads(data, trusted=sorted(untrusted))
        return cls(
            random_state=int(state["random_state"]),
            estimator=state["estimator"],
            threshold=float(state["threshold"]),
            features=list(state["features"]),
        )


#: Columns of the public cartel datasets (García Rodríguez et al. 2022) and their names here.
_DATASET_COLUMNS = {
    "Tender": "tender",
    "Bid_value": "price",
    "Pre-Tender Estimate (PTE)": "estimate",
    "Winner": "winner",
}


def load_cartel_dataset(path: str | Path) -> tuple[pd.DataFrame, pd.Series]:
    """Bids and tender labels of one public cartel dataset (a ``DB_Collusion_*.csv`` file).

    A tender is collusive when any of its bids has ``Collusive_competitor == 1``; in these
    files the label is already the same for every bid of a tender (the paper's tender-level
    definition), so "any" and "all" agree. The stored screens are not used: they are
    recomputed from ``Bid_value`` (the data notes say the stored RD, and DIFFP for Japan, are
    wrong).
    """
    raw = pd.read_csv(path)
    bids = raw[[c for c in _DATASET_COLUMNS if c in raw.columns]].rename(columns=_DATASET_COLUMNS)
    labels = (
        pd.to_numeric(raw["Collusive_competitor"], errors="coerce")
        .fillna(0)
        .groupby(raw["Tender"])
        .max()
        .astype(int)
    )
    labels.index.name = "tender"
    return bids, labels


def cartel_datasets(folder: str | Path) -> dict[str, Path]:
    """The dataset files in ``folder`` by short name (``Brazil``, ``Japan``, ...)."""
    found = sorted(Path(folder).glob("DB_Collusion_*.csv"))
    return {f.name.removeprefix("DB_Collusion_").removesuffix("_processed.csv"): f for f in found}


#: The shipped model (``manage.py train_collusion_model`` writes it).
SHIPPED_MODEL = Path(__file__).resolve().parent / "models_data" / "collusion.skops"


def load_shipped_model() -> CollusionModel:
    """The model trained on the public cartel datasets and shipped with the code."""
    return CollusionModel.load(SHIPPED_MODEL)
