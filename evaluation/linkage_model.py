"""The learned part of ``evaluation.linkage``: generated labelled pairs and the classifier.

Pure, no database. For a field layout (the spec's types, and what the data looks like:
GB 11643 numbers or other digit strings, Chinese or Latin names) a synthetic population is
generated and linked against copies of itself that carry every error the engine must
forgive (one wrong digit, swapped digits, 15-digit legacy numbers, a missing check digit,
full-width characters, homophones, pinyin spellings, typing errors, swapped day and month,
missing values), one at a time and two at once (a homophone and a wrong ID digit), and
against the hard negatives it must not take for a match (namesakes born days apart in the
same district or the same day in another, their own records mistyped too; relatives
sharing an address and a surname; another person's number a digit away, valid or mistyped
so that it looks like a typo). The pairs the real blocking passes return are labelled from
the generator's truth and a histogram gradient-boosting classifier, held to never score a
number many digits away above one a digit away (monotonic constraints), is fitted and
calibrated (isotonic, 3 folds). The model is cached in memory per layout; the seed is
fixed, so a layout always gets the same model.
"""

from __future__ import annotations

import functools
import random
from typing import Any

import numpy as np
import pandas as pd
from pypinyin import Style, lazy_pinyin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

from orgs_registry.identifiers import id_check_char

SEED = 20261126
PEOPLE = 8000
DUPLICATES = 3000
# Copies with errors in two fields at once (a homophone and a wrong ID digit, say). The
# copies above draw each field's error on its own, so in a layout of three fields two given
# fields are wrong together in fewer than one copy in ten, and a given pair of error kinds
# (a homophone with a wrong sex digit) almost never: the model then ruled on such pairs from
# the hard negatives around them. Each error alone is common in staffing records, and so is
# the pair of them.
COMBINED = 2000
NAMESAKES = 1500
RELATIVES = 1000
STRANGERS = 1500
NEIGHBOURS = 1500

CN_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
CN_GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉建国志文斌宇浩凯健俊帆帅旭宁"
    "龙林欣佳子雨晨浩然梓涵一诺思琪梦欣怡晓婷雪丹颖倩慧琳瑶嘉楠鑫磊峰波海斌昊天宏博轩泽宸睿航成康德庆荣"
)
LATIN_GIVEN = [
    "james",
    "john",
    "robert",
    "michael",
    "william",
    "david",
    "richard",
    "joseph",
    "thomas",
    "charles",
    "mary",
    "patricia",
    "jennifer",
    "linda",
    "elizabeth",
    "barbara",
    "susan",
    "jessica",
    "sarah",
    "karen",
    "emily",
    "olivia",
    "jack",
    "noah",
    "liam",
    "lachlan",
    "chloe",
    "zoe",
    "mia",
    "ella",
    "grace",
    "ruby",
    "lucy",
    "sophie",
    "isabella",
    "benjamin",
    "samuel",
]
LATIN_SURNAMES = [
    "smith",
    "jones",
    "williams",
    "brown",
    "wilson",
    "taylor",
    "johnson",
    "white",
    "martin",
    "anderson",
    "thompson",
    "nguyen",
    "thomas",
    "walker",
    "harris",
    "lee",
    "ryan",
    "robinson",
    "kelly",
    "king",
    "davis",
    "wright",
    "evans",
    "roberts",
    "green",
    "hall",
    "wood",
    "jackson",
    "clarke",
    "campbell",
    "mitchell",
    "young",
    "hughes",
    "edwards",
    "turner",
]
SYLLABLES = [
    "ka",
    "ri",
    "na",
    "to",
    "mi",
    "le",
    "so",
    "ber",
    "an",
    "el",
    "ton",
    "son",
    "lin",
    "dra",
    "ve",
    "ro",
    "sa",
    "ni",
    "ma",
    "la",
    "de",
    "ga",
    "ho",
    "ke",
    "mar",
    "tin",
    "ley",
    "ford",
    "wen",
    "da",
    "ric",
    "hel",
    "stra",
    "bo",
    "ju",
    "ne",
    "ca",
    "al",
    "ex",
]
STREETS = [
    "main",
    "high",
    "church",
    "park",
    "station",
    "victoria",
    "george",
    "king",
    "queen",
    "albert",
    "river",
    "hill",
    "mill",
    "north",
    "south",
    "west",
    "east",
    "bridge",
    "lake",
    "garden",
    "forest",
]
STREET_TYPES = ("street", "road", "avenue", "place", "crescent", "drive", "lane", "court")
REGIONS = tuple(
    f"{p}{c:02d}{d:02d}"
    for p, c, d in [
        (50, 1, 3),
        (50, 1, 5),
        (50, 1, 6),
        (50, 1, 7),
        (50, 1, 8),
        (50, 1, 12),
        (11, 1, 1),
        (31, 1, 15),
        (44, 3, 5),
        (51, 1, 7),
        (42, 1, 6),
        (61, 1, 3),
    ]
)


class _Gen:
    """Synthetic people and their corrupted copies for one field layout."""

    def __init__(
        self, fields: tuple[tuple[str, str], ...], kinds: tuple[str, ...], seed: int = SEED
    ) -> None:
        self.fields = fields
        self.kinds = kinds
        self.rng = random.Random(seed)  # noqa: S311  (reproducible synthetic data, not secrets)
        syllable_of = dict(
            zip(CN_GIVEN, lazy_pinyin(list(CN_GIVEN), style=Style.NORMAL), strict=True)
        )
        syllable_of.update(
            zip(CN_SURNAMES, lazy_pinyin(list(CN_SURNAMES), style=Style.NORMAL), strict=True)
        )
        self.syllable_of = syllable_of
        groups: dict[str, list[str]] = {}
        for char, syllable in syllable_of.items():
            groups.setdefault(syllable, []).append(char)
        self.homophones = {c: [o for o in groups[s] if o != c] for c, s in syllable_of.items()}
        latin_names = [i for i, k in enumerate(kinds) if k == "latin"]
        self.latin_role = {i: n for n, i in enumerate(latin_names)}
        self.latin_count = len(latin_names)
        self.dense = any(
            k == "id_number" and p == "cn" for (_, k), p in zip(fields, kinds, strict=True)
        )

    # -- people ---------------------------------------------------------------------------
    def zipf(self, pool: Any, skew: float = 1.1) -> Any:
        index = min(int(self.rng.paretovariate(skew)) - 1, len(pool) - 1)
        return pool[index] if self.rng.random() < 0.7 else self.rng.choice(pool)

    def latin_word(self) -> str:
        return "".join(self.rng.choice(SYLLABLES) for _ in range(self.rng.randint(2, 3)))

    def person(self) -> dict[str, Any]:
        rng = self.rng
        if self.dense and rng.random() < 0.7:
            # A roster is crowded: many people share a district and a birth date, so
            # another person's ID number is often a digit or two away.
            born = pd.Timestamp("1975-01-01") + pd.Timedelta(days=rng.randrange(0, 3 * 365))
            region = rng.choice(REGIONS[:3])
        else:
            region = rng.choice(REGIONS)
            born = pd.Timestamp("1940-01-01") + pd.Timedelta(days=rng.randrange(0, 65 * 365))
        width = 7
        for kind in self.kinds:
            if kind.startswith("generic:"):
                width = int(kind.split(":")[1])
        return {
            "born": born,
            "male": rng.random() < 0.5,
            "region": region,
            "seq": rng.randrange(0, 100),
            "cn_surname": self.zipf(CN_SURNAMES),
            "cn_given": "".join(self.zipf(CN_GIVEN, 1.3) for _ in range(rng.choice((1, 2, 2)))),
            "given": self.zipf(LATIN_GIVEN) if rng.random() < 0.6 else self.latin_word(),
            "surname": self.zipf(LATIN_SURNAMES) if rng.random() < 0.6 else self.latin_word(),
            "word": self.latin_word(),
            "generic_id": "".join(str(rng.randrange(10)) for _ in range(width)),
            "phone": f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}",
            "address": f"{rng.randrange(1, 400)} {rng.choice(STREETS)} {rng.choice(STREET_TYPES)}",
            "code": f"{rng.randrange(2000, 2300)}",
        }

    def id_number(self, p: dict[str, Any]) -> str:
        order = f"{p['seq']:02d}{(1 if p['male'] else 0) + 2 * self.rng.randrange(5)}"
        first17 = f"{p['region']}{p['born']:%Y%m%d}{order}"
        return first17 + id_check_char(first17)

    def render(self, p: dict[str, Any]) -> dict[str, Any]:
        row: dict[str, Any] = {}
        for (column, kind), profile in zip(self.fields, self.kinds, strict=True):
            if kind == "id_number":
                row[column] = (
                    p.setdefault("id", self.id_number(p)) if profile == "cn" else p["generic_id"]
                )
            elif kind in ("person_name", "name"):
                if profile == "cn":
                    row[column] = p["cn_surname"] + p["cn_given"]
                else:
                    role = self.latin_role[self.fields.index((column, kind))]
                    if self.latin_count == 1:
                        row[column] = f"{p['given']} {p['surname']}"
                    else:
                        row[column] = (p["given"], p["surname"])[role] if role < 2 else p["word"]
            elif kind == "date":
                row[column] = f"{p['born']:%Y%m%d}"
            elif kind == "phone":
                row[column] = p["phone"]
            elif kind == "text":
                row[column] = p["address"]
            else:
                row[column] = p["code"]
        return row

    # -- errors ---------------------------------------------------------------------------
    def typo(self, text: str) -> str:
        rng = self.rng
        if len(text) < 2:
            return text + rng.choice("aeiou")
        i = rng.randrange(len(text) - 1)
        op = rng.randrange(5)
        letters = "0123456789" if text.isdigit() else "abcdefghijklmnopqrstuvwxyz"
        if op == 0:
            return text[:i] + rng.choice(letters) + text[i + 1 :]
        if op == 1:
            return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
        if op == 2:
            return text[:i] + text[i + 1 :]
        if op == 3:
            return text[:i] + rng.choice(letters) + text[i:]
        return text.replace("ph", "f").replace("c", "k") if rng.random() < 0.5 else text + "e"

    def corrupt_id(self, value: str) -> str:
        rng = self.rng
        if len(value) != 18:
            return self.typo(value)
        op = rng.randrange(7)
        if op == 0:  # one digit wrong
            i = rng.randrange(17)
            return value[:i] + str((int(value[i]) + rng.randrange(1, 10)) % 10) + value[i + 1 :]
        if op == 1:  # two neighbouring characters swapped
            i = rng.randrange(17)  # 16: the check character too
            return value[:i] + value[i + 1] + value[i] + value[i + 2 :]
        if op == 2 and value[6:8] == "19":  # legacy 15-digit number
            return value[:6] + value[8:17]
        if op == 3:  # check digit left out
            return value[:17]
        if op == 4:  # typed with a full-width input method
            return "".join(chr(ord(c) + 0xFEE0) for c in value)
        if op == 5:
            return f"{value[:6]} {value[6:14]} {value[14:]}".lower()
        i = rng.randrange(17)
        return value[:i] + str((int(value[i]) + 1) % 10) + value[i + 1 :]

    def corrupt_cn_name(self, value: str) -> str:
        rng = self.rng
        op = rng.randrange(5)
        if op == 0:  # homophone
            options = [i for i, c in enumerate(value) if self.homophones.get(c)]
            if options:
                i = rng.choice(options)
                return value[:i] + rng.choice(self.homophones[value[i]]) + value[i + 1 :]
        if op in (0, 1):  # written in pinyin
            syllables = [self.syllable_of.get(c, c) for c in value]
            surname, given = syllables[0], "".join(syllables[1:])
            return rng.choice(
                (
                    f"{surname.title()} {given.title()}",
                    f"{surname.upper()} {given}",
                    f"{given.title()} {surname.title()}",
                    f"{surname}{given}",
                )
            )
        if op == 2:  # full-width space between the characters
            return value[0] + "\u3000" + value[1:]
        if op == 3 and len(value) > 2:  # a character left out
            return value[:-1]
        return value[0] + rng.choice(CN_GIVEN) + value[2:]  # a different given name

    def corrupt_date(self, value: str) -> str:
        rng = self.rng
        op = rng.randrange(5)
        y, m, d = value[:4], value[4:6], value[6:8]
        if op == 0 and int(d) <= 12:
            return y + d + m
        if op == 1:
            return f"{int(y) + rng.choice((-1, 1))}{m}{d}"
        if op == 2:
            return f"{y}-{m}-{d}"
        return self.typo(value)

    def corrupt(self, column: str, kind: str, profile: str, value: str) -> Any:
        if kind == "id_number":
            return self.corrupt_id(value) if profile == "cn" else self.typo(value)
        if kind in ("person_name", "name"):
            if profile == "cn":
                return self.corrupt_cn_name(value)
            if " " in value and self.rng.random() < 0.3:
                return " ".join(reversed(value.split()))
            return self.typo(value) if self.rng.random() < 0.85 else value.upper()
        if kind == "date":
            return self.corrupt_date(value)
        if kind == "phone":
            return self.typo(value) if self.rng.random() < 0.5 else f"+86 {value}"
        return self.typo(value)

    def copy_with_errors(
        self, row: dict[str, Any], rate: float, *, keep_ids: bool = False
    ) -> dict[str, Any]:
        out = dict(row)
        touched = 0
        for (column, kind), profile in zip(self.fields, self.kinds, strict=True):
            if keep_ids and kind == "id_number" and profile == "cn":
                continue
            draw = self.rng.random()
            if draw < 0.07:
                out[column] = None
                touched += 1
            elif draw < 0.07 + rate:
                out[column] = self.corrupt(column, kind, profile, row[column])
                touched += 1
        if not touched and self.fields:
            column, kind = self.rng.choice(self.fields)
            profile = self.kinds[self.fields.index((column, kind))]
            out[column] = self.corrupt(column, kind, profile, row[column])
        self.replace_and_swap(out)
        return out

    def copy_with_two_errors(self, row: dict[str, Any]) -> dict[str, Any]:
        """A copy with two fields wrong at once: both misspelled, or one left out and the
        other misspelled (a missing birth date and a homophone). The other fields are
        copied as they are."""
        out = dict(row)
        if len(self.fields) < 2:
            return self.copy_with_errors(row, 0.3)
        first, second = self.rng.sample(range(len(self.fields)), 2)
        for n, index in enumerate((first, second)):
            column, kind = self.fields[index]
            if n == 0 and self.rng.random() < 0.2:
                out[column] = None
            else:
                out[column] = self.corrupt(column, kind, self.kinds[index], row[column])
        self.replace_and_swap(out)
        return out

    def replace_and_swap(self, out: dict[str, Any]) -> None:
        """Other data sets (FEBRL) also replace a whole value by another one and swap two
        values of one kind (first name and surname, two address lines). Chinese ID numbers
        and names are left alone: a wholly different one means a different person there."""
        generic = [
            (column, kind)
            for (column, kind), profile in zip(self.fields, self.kinds, strict=True)
            if profile != "cn"
        ]
        if not generic:
            return
        fresh = self.render(self.person())
        for column, _ in generic:
            if self.rng.random() < 0.15:
                out[column] = fresh[column]
        if self.rng.random() < 0.2:
            column, kind = self.rng.choice(generic)
            same = [c for c, k in generic if k == kind and c != column]
            if same:
                other = self.rng.choice(same)
                out[column], out[other] = out[other], out[column]

    # -- the labelled set -----------------------------------------------------------------
    def frames(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        rng = self.rng
        people = [self.person() for _ in range(PEOPLE)]
        rows = [self.render(p) for p in people]
        left = [
            dict(
                self.copy_with_errors(r, 0.15, keep_ids=True) if rng.random() < 0.2 else r,
                _person=i,
            )
            for i, r in enumerate(rows)
        ]
        right: list[dict[str, Any]] = []
        for _ in range(DUPLICATES):
            i = rng.randrange(PEOPLE)
            right.append(dict(self.copy_with_errors(rows[i], 0.3), _person=i))
        for _ in range(COMBINED):
            i = rng.randrange(PEOPLE)
            right.append(dict(self.copy_with_two_errors(rows[i]), _person=i))
        for n in range(NAMESAKES):  # same name, born days apart, same district
            p = dict(rng.choice(people))
            p.pop("id", None)
            if self.dense and rng.random() < 0.3:
                # Or born the same day in another district: a common name has thousands of
                # bearers, and a roster of a million holds some born on one day. Their ID
                # numbers differ in many digits and agree on the birth date.
                p["region"] = rng.choice([r for r in REGIONS if r != p["region"]])
            else:
                days = rng.choice((-1, 1)) * rng.randint(1, 60)
                p["born"] = p["born"] + pd.Timedelta(days=days)
            p.update(
                seq=rng.randrange(100),
                generic_id=self.person()["generic_id"],
                phone=self.person()["phone"],
            )
            if rng.random() < 0.5:
                p.update(address=self.person()["address"], code=self.person()["code"])
            row = self.render(p)
            # A namesake's record has its own typos. With GB 11643 numbers it matters most:
            # his mistyped number fails its check like a typo of the other person's would,
            # and only the many other digits that differ tell him apart; so there his
            # records carry errors as often as a person's own copies do.
            share, rate = (0.6, 0.3) if self.dense else (0.3, 0.15)
            if rng.random() < share:
                row = self.copy_with_errors(row, rate)
            right.append(dict(row, _person=PEOPLE + n))
        for n in range(RELATIVES):  # same family name, address and phone line, another person
            p = dict(rng.choice(people))
            p.pop("id", None)
            other = self.person()
            p.update(
                born=other["born"],
                male=other["male"],
                seq=other["seq"],
                cn_given=other["cn_given"],
                given=other["given"],
                word=other["word"],
                generic_id=other["generic_id"],
            )
            if rng.random() < 0.5:
                p["phone"] = other["phone"]
            right.append(dict(self.render(p), _person=PEOPLE + NAMESAKES + n))
        # A valid ID number one digit away: its check digit rules out a typo. (Only for
        # GB 11643 numbers: other numbers have no check, a digit off may be a typo.)
        for n in range(NEIGHBOURS if self.dense else 0):
            p = dict(rng.choice(people))
            source = p.pop("id", None) or self.id_number(p)
            other = self.person()
            # Some are written mistyped so that they carry the check character of the number
            # one digit away, as that number mistyped would: in a crowded roster one typo in
            # a few hundred lands next to another person's number (anywhere in it) with the
            # check character agreeing by chance (1 in 11). Only the name tells them apart.
            mistyped = rng.random() < 0.3
            while True:
                i = rng.randrange(17) if mistyped else rng.choice((14, 15, 16))
                digit = str((int(source[i]) + rng.randrange(1, 10)) % 10)
                first17 = source[:i] + digit + source[i + 1 : 17]
                born = pd.to_datetime(first17[6:14], format="%Y%m%d", errors="coerce")
                if not pd.isna(born) and 1900 <= born.year <= 2099:
                    break
            p["id"] = first17 + id_check_char(first17)
            p.update(
                born=born,
                cn_surname=other["cn_surname"] if rng.random() < 0.7 else p["cn_surname"],
                cn_given=other["cn_given"],
                given=other["given"],
                surname=other["surname"],
                phone=other["phone"],
                generic_id=self.typo(p["generic_id"]),
            )
            person = PEOPLE + NAMESAKES + RELATIVES + STRANGERS + n
            row = self.render(p)
            for (column, kind), profile in zip(self.fields, self.kinds, strict=True):
                if kind != "id_number" or profile != "cn":
                    continue
                if mistyped:
                    row[column] = first17 + source[17]
                elif rng.random() < 0.4:
                    # Written without its check digit, the typo is no longer ruled out.
                    row[column] = row[column][:17]
            right.append(dict(row, _person=person))
        for n in range(STRANGERS):
            right.append(
                dict(self.render(self.person()), _person=PEOPLE + NAMESAKES + RELATIVES + n)
            )
        left_frame = pd.DataFrame(left)
        right_frame = pd.DataFrame(right)
        left_frame["_rid"] = np.arange(len(left_frame))
        right_frame["_rid"] = np.arange(len(right_frame))
        return left_frame, right_frame


def training_pairs(
    fields: tuple[tuple[str, str], ...], kinds: tuple[str, ...], *, seed: int = SEED
) -> tuple[np.ndarray, np.ndarray]:
    """Feature matrix and labels of the generated candidate pairs for a layout. The model
    is trained on those of ``SEED``; another seed draws fresh pairs to check it on."""
    from evaluation import linkage

    left, right = _Gen(fields, kinds, seed).frames()
    spec = linkage._parse_spec(
        {"left_id": "_rid", "right_id": "_rid", "fields": dict(fields)}, left, right
    )
    left_prep = linkage._prepare(left, spec.fields)
    right_prep = linkage._prepare(right, spec.fields)
    li, ri = linkage._candidates(left_prep, right_prep, spec, len(right))
    matrix, evidence = linkage._features(spec.fields, left_prep, right_prep, li, ri)
    plausible = linkage._plausible(evidence)
    li, ri, matrix = li[plausible], ri[plausible], matrix[plausible]
    labels = (left["_person"].to_numpy()[li] == right["_person"].to_numpy()[ri]).astype(int)
    return matrix, labels


@functools.lru_cache(maxsize=32)
def model_for(fields: tuple[tuple[str, str], ...], kinds: tuple[str, ...]) -> Model:
    """The calibrated classifier for a field layout, trained on first use."""
    matrix, labels = training_pairs(fields, kinds)
    if labels.min() == labels.max():
        raise ValueError("the generated training pairs hold only one class")
    from evaluation.linkage import feature_directions

    # A comparison that never applies to this layout (GB 11643 checks of other numbers)
    # is all missing: it is dropped rather than binned.
    used = ~np.isnan(matrix).all(axis=0)
    booster = HistGradientBoostingClassifier(
        max_iter=150,
        learning_rate=0.1,
        max_leaf_nodes=31,
        l2_regularization=1.0,
        monotonic_cst=feature_directions(fields)[used].tolist(),
        random_state=SEED,
    )
    model = CalibratedClassifierCV(booster, method="isotonic", cv=3, ensemble=False)
    # One OpenMP thread: on a loaded 2-core machine more threads make the fit 10x slower.
    with threadpool_limits(limits=1):
        model.fit(matrix[:, used], labels)
    return Model(model, used)


class Model:
    """A fitted classifier and the feature columns it was fitted on."""

    def __init__(self, classifier: Any, used: np.ndarray) -> None:
        self.classifier = classifier
        self.used = used

    def predict(self, matrix: np.ndarray) -> np.ndarray:
        """Calibrated match probabilities of a feature matrix."""
        if not len(matrix):
            return np.zeros(0)
        with threadpool_limits(limits=1):
            return self.classifier.predict_proba(matrix[:, self.used])[:, 1]


def predict(model: Model, matrix: np.ndarray) -> np.ndarray:
    """Calibrated match probabilities of a feature matrix."""
    return model.predict(matrix)
