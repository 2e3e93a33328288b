"""Synthetic Chinese staffing rosters and bid-staff records with known truth (benchmarks).

Written apart from ``evaluation.linkage_model``'s training generator (its own pools, its own
error mix and proportions) so that the benchmark does not grade the model on the data it
was trained on. Everything is vectorized with numpy: a roster of 1,000,000 people takes a
few seconds.

``roster(n)``: ``person_id, name, id_number, phone`` (70 % have a phone).
``bid_staff(roster, n)``: half copied from the roster with the errors of issue 7 point 2
(one wrong ID digit, two swapped ID digits, the 15-digit legacy number, the check digit
left out, full-width characters, a homophone, the name in pinyin, a missing ID number or
name; a fifth with two errors at once, ``COMBINED``), half not on the roster: namesakes of
roster people born 1-30 days apart in the same district, and strangers. ``truth`` holds the
roster ``person_id`` of each bid-staff record, or ``-1``; ``error`` the errors written
into it (``"name_homophone+id_one_digit"``), empty when it is not on the roster.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pypinyin import Style, lazy_pinyin

from orgs_registry.identifiers import ID_CHECK_CHARS, ID_WEIGHTS

SURNAMES = list(
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
    "余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段漕钱汤尹黎易常武乔贺赖龚文"
)
GIVEN = list(
    "伟刚勇毅俊峰强军平保东文辉力明永健世广志义兴良海山仁波宁贵福生龙元全国胜学祥才发武新利清飞彬富顺信子杰"
    "涛昌成康星光天达安岩中茂进林有坚和彪博诚先敬震振壮会思群豪心邦承乐绍功松善厚庆磊民友裕河哲江超浩亮政谦"
    "秀娟英华慧巧美娜静淑惠珠翠雅芝玉萍红娥玲芬芳燕彩春菊兰凤洁梅琳素云莲真环雪荣爱妹霞香月莺媛艳瑞凡佳嘉琼"
)
REGIONS = np.array(
    [500101 + i for i in range(0, 56, 2)] + [510104, 510105, 510107, 110101, 310115, 440305],
    dtype=np.int64,
)
_W = np.array(ID_WEIGHTS, dtype=np.int64)
_CHECK = np.array(list(ID_CHECK_CHARS))


def _zipf_weights(n: int, skew: float) -> np.ndarray:
    weights = 1.0 / np.arange(1, n + 1) ** skew
    return weights / weights.sum()


def _ids(region: np.ndarray, born: np.ndarray, seq: np.ndarray) -> np.ndarray:
    """18-character ID numbers (GB 11643) from region codes, birth dates and 3-digit
    sequence numbers (the last digit's parity is the sex)."""
    ymd = pd.DatetimeIndex(born).strftime("%Y%m%d").to_numpy(dtype=str)
    body = np.char.add(np.char.add(region.astype(str), ymd), np.char.zfill(seq.astype(str), 3))
    digits = body.astype("S17").view(np.uint8).reshape(-1, 17).astype(np.int64) - 48
    return np.char.add(body, _CHECK[(digits @ _W) % 11])


def _names(rng: np.random.Generator, n: int) -> np.ndarray:
    surname = np.array(SURNAMES)[rng.choice(len(SURNAMES), n, p=_zipf_weights(len(SURNAMES), 1.0))]
    given_p = _zipf_weights(len(GIVEN), 0.9)
    first = np.array(GIVEN)[rng.choice(len(GIVEN), n, p=given_p)]
    second = np.array(GIVEN)[rng.choice(len(GIVEN), n, p=given_p)]
    two = rng.random(n) < 0.7
    return np.char.add(surname, np.where(two, np.char.add(first, second), first))


def roster(n: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    extra = n // 50 + 100
    region = REGIONS[rng.integers(0, len(REGIONS), n + extra)]
    born = np.datetime64("1955-01-01") + rng.integers(0, 50 * 365, n + extra).astype(
        "timedelta64[D]"
    )
    seq = rng.integers(0, 1000, n + extra)
    ids = _ids(region, born, seq)
    _, first = np.unique(ids, return_index=True)
    keep = np.sort(first)[:n]
    ids, region, born, seq = ids[keep], region[keep], born[keep], seq[keep]
    phone = np.char.add("13", np.char.zfill(rng.integers(0, 10**9, n).astype(str), 9))
    return pd.DataFrame(
        {
            "person_id": np.arange(n, dtype=np.int64),
            "name": _names(rng, n),
            "id_number": ids,
            "phone": pd.Series(phone).where(rng.random(n) < 0.7),
            "_region": region,
            "_born": born,
        }
    )


def _pinyin_of(chars: list[str]) -> dict[str, str]:
    return dict(zip(chars, lazy_pinyin(chars, style=Style.NORMAL), strict=True))


def _homophone_map() -> dict[str, list[str]]:
    syllable = _pinyin_of(SURNAMES + GIVEN)
    groups: dict[str, list[str]] = {}
    for char, sound in syllable.items():
        groups.setdefault(sound, []).append(char)
    # Extra characters that sound like pool characters but are not in the pools.
    return {c: [o for o in groups[s] if o != c] for c, s in syllable.items()}


ERRORS = (
    "id_one_digit",
    "id_transposition",
    "id_legacy_15",
    "id_missing_check",
    "id_full_width",
    "name_homophone",
    "name_pinyin",
    "name_full_width",
    "id_missing",
    "name_missing",
)


# Two errors in one record, applied in this order (issue 7 point 2): each alone links, and
# so must the pair. The bench layout has no birth date; its missing field is the ID number.
COMBINED = (
    ("name_homophone", "id_one_digit"),
    ("name_homophone", "id_transposition"),
    ("name_homophone", "id_legacy_15"),
    ("id_one_digit", "id_full_width"),
    ("name_pinyin", "id_one_digit"),
    ("id_missing", "name_homophone"),
)


def _apply(kind: str, name: Any, idn: Any, rng: np.random.Generator, homo, sound):
    """``name`` and ``idn`` with the error ``kind`` written into them (``None``: left out)."""
    if kind == "id_one_digit":
        i = int(rng.integers(0, 17))
        idn = idn[:i] + str((int(idn[i]) + int(rng.integers(1, 10))) % 10) + idn[i + 1 :]
    elif kind == "id_transposition":
        options = [i for i in range(17) if idn[i] != idn[i + 1]]
        i = options[int(rng.integers(0, len(options)))]
        idn = idn[:i] + idn[i + 1] + idn[i] + idn[i + 2 :]
    elif kind == "id_legacy_15":
        idn = idn[:6] + idn[8:17] if idn[6:8] == "19" else idn[:17]
    elif kind == "id_missing_check":
        idn = idn[:17]
    elif kind == "id_full_width":
        idn = "".join(chr(ord(c) + 0xFEE0) for c in idn)
    elif kind == "name_homophone":
        options = [i for i, c in enumerate(name) if homo.get(c)]
        if options:
            i = options[int(rng.integers(0, len(options)))]
            choices = homo[name[i]]
            name = name[:i] + choices[int(rng.integers(0, len(choices)))] + name[i + 1 :]
        else:
            name = name[0] + " " + name[1:]
    elif kind == "name_pinyin":
        parts = [sound.get(c, c) for c in name]
        style = int(rng.integers(0, 3))
        if style == 0:
            name = f"{parts[0].title()} {''.join(parts[1:]).title()}"
        elif style == 1:
            name = f"{''.join(parts[1:]).title()} {parts[0].upper()}"
        else:
            name = "".join(parts)
    elif kind == "name_full_width":
        name = name[0] + "\u3000" + name[1:]
    elif kind == "id_missing":
        idn = None
    elif kind == "name_missing":
        name = None
    return name, idn


def bid_staff(people: pd.DataFrame, n: int, seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    homo = _homophone_map()
    sound = _pinyin_of(SURNAMES + GIVEN)
    on_roster = n // 2
    # Records copied from the roster, each with one error; every fifth with two at once,
    # the combinations of issue 7 point 2 in turn.
    picks = rng.choice(len(people), on_roster, replace=False)
    source = people.iloc[picks]
    plans = [
        COMBINED[(i // 5) % len(COMBINED)]
        if i % 5 == 0
        else (ERRORS[(i - i // 5 - 1) % len(ERRORS)],)
        for i in range(on_roster)
    ]
    names, ids, phones, errors = [], [], [], []
    for name, idn, phone, plan in zip(
        source["name"], source["id_number"], source["phone"], plans, strict=True
    ):
        if "id_missing" in plan and not isinstance(phone, str):
            # Nothing but a name would be left to link it by.
            plan = ("name_homophone",) if len(plan) == 1 else COMBINED[0]
        for kind in plan:
            name, idn = _apply(kind, name, idn, rng, homo, sound)
        names.append(name)
        ids.append(idn)
        phones.append(phone if "id_missing" in plan or rng.random() < 0.5 else None)
        errors.append("+".join(plan))
    copied = pd.DataFrame(
        {
            "name": names,
            "id_number": ids,
            "phone": phones,
            "truth": source["person_id"].to_numpy(),
            "error": errors,
        }
    )
    # Namesakes: same name and district, born 1-30 days apart, another sequence number.
    rest = n - on_roster
    namesakes = rest // 2
    model = people.iloc[rng.choice(len(people), namesakes, replace=False)]
    shift = rng.integers(1, 31, namesakes) * rng.choice([-1, 1], namesakes)
    born = model["_born"].to_numpy() + shift.astype("timedelta64[D]")
    namesake_ids = _ids(model["_region"].to_numpy(), born, rng.integers(0, 1000, namesakes))
    strangers = rest - namesakes
    stranger_ids = _ids(
        REGIONS[rng.integers(0, len(REGIONS), strangers)],
        np.datetime64("1955-01-01") + rng.integers(0, 50 * 365, strangers).astype("timedelta64[D]"),
        rng.integers(0, 1000, strangers),
    )
    phone = np.char.add("15", np.char.zfill(rng.integers(0, 10**9, rest).astype(str), 9))
    others = pd.DataFrame(
        {
            "name": np.concatenate([model["name"].to_numpy(dtype=str), _names(rng, strangers)]),
            "id_number": np.concatenate([namesake_ids, stranger_ids]),
            "phone": pd.Series(phone).where(rng.random(rest) < 0.5),
            "truth": -1,
            "error": "",
        }
    )
    # ID numbers are unique: a drawn number that is already on the roster is dropped.
    others = others[~others["id_number"].isin(people["id_number"])]
    staff = pd.concat([copied, others], ignore_index=True)
    staff.insert(0, "staff_id", np.arange(len(staff), dtype=np.int64))
    return staff
