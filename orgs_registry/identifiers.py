"""National identifiers: the Unified Social Credit Code (GB 32100-2015) and the citizen
identity number (GB 11643-1999), plus phone numbers.

Pure functions, no database. ``validate_uscc`` and ``validate_id_number`` return the
normalized value or raise ``ValueError`` whose message names the rule that failed
(CONTRACTS.md section 2).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)  # GB 11714-1997

# GB 32100-2015 Annex: registration authority (position 1) and, for each, the
# organization categories (position 2) it registers.
USCC_AUTHORITIES: dict[str, str] = {
    "1": "1239",  # 机构编制
    "2": "19",  # 外交
    "3": "1234589",  # 司法行政
    "4": "19",  # 文化
    "5": "1239",  # 民政
    "6": "129",  # 旅游
    "7": "129",  # 宗教
    "8": "19",  # 工会
    "9": "123",  # 工商 (市场监管)
    "A": "19",  # 中央军委改革和编制办公室
    "N": "12349",  # 农业
    "Y": "1",  # 其他
}

# Position 1 "5" (civil affairs) with position 2 naming the kind of social organization.
CIVIL_AFFAIRS_KINDS = {
    "1": "social_group",  # 社会团体
    "2": "social_service_agency",  # 民办非企业单位 / 社会服务机构
    "3": "foundation",  # 基金会
    "9": "other",
}

_WHITESPACE = re.compile(r"[\s\u3000]+")
_REGION = re.compile(r"[0-9]{6}")


def normalize_code(value: str) -> str:
    """Trim, drop spaces, fold full-width characters to half-width and upper-case."""
    return _WHITESPACE.sub("", unicodedata.normalize("NFKC", value or "")).upper()


def _org_code_value(char: str) -> int:
    return int(char) if char.isdigit() else ord(char) - ord("A") + 10


def org_code_check_char(body: str) -> str:
    """Return the GB 11714 check character for the 8-character organization code body."""
    total = sum(_org_code_value(c) * w for c, w in zip(body, ORG_CODE_WEIGHTS, strict=True))
    remainder = 11 - total % 11
    if remainder == 10:
        return "X"
    if remainder == 11:
        return "0"
    return str(remainder)


def uscc_check_char(first17: str) -> str:
    """Return the GB 32100 check character for the first 17 characters of a code."""
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def validate_uscc(value: str) -> str:
    """Return the normalized Unified Social Credit Code or raise ``ValueError``."""
    code = normalize_code(value)
    if not code:
        raise ValueError("USCC is empty")
    if len(code) != 18:
        raise ValueError(f"USCC must have 18 characters, not {len(code)}")
    bad = sorted({c for c in code if c not in USCC_ALPHABET})
    if bad:
        raise ValueError(
            f"USCC contains characters outside the GB 32100 alphabet: {''.join(bad)} "
            "(I, O, S, V and Z are never used)"
        )
    authority, category = code[0], code[1]
    if authority not in USCC_AUTHORITIES:
        raise ValueError(f"USCC position 1 '{authority}' is not a registration authority code")
    if category not in USCC_AUTHORITIES[authority]:
        raise ValueError(
            f"USCC position 2 '{category}' is not an organization category of "
            f"registration authority '{authority}'"
        )
    if not _REGION.fullmatch(code[2:8]):
        raise ValueError("USCC positions 3-8 must be a six-digit administrative region code")
    expected_org = org_code_check_char(code[8:16])
    if code[16] != expected_org:
        raise ValueError(
            f"USCC organization code check character (position 17) is '{code[16]}', "
            f"expected '{expected_org}'"
        )
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        raise ValueError(
            f"USCC check character (position 18) is '{code[17]}', expected '{expected}'"
        )
    return code


def uscc_kind(code: str) -> str:
    """Return the organization kind a valid code names (GLOSSARY ``kind``)."""
    if code[0] == "5":
        return CIVIL_AFFAIRS_KINDS.get(code[1], "other")
    return "other"


def uscc_region(code: str) -> str:
    """Return the registering authority's six-digit region code."""
    return code[2:8]


def make_uscc(*, authority: str, category: str, region: str, org_body: str) -> str:
    """Build a valid code from its parts (demo data and tests)."""
    first16 = f"{authority}{category}{region}{org_body}"
    first17 = first16 + org_code_check_char(org_body)
    return first17 + uscc_check_char(first17)


# --- Citizen identity numbers (GB 11643-1999) ------------------------------------------------

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
# GB/T 2260 province-level codes, plus 81-83 for residence permits of Hong Kong, Macao
# and Taiwan residents.
PROVINCE_CODES = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
        "83",
    ]
)
_DIGITS = re.compile(r"[0-9]+")


def id_check_char(first17: str) -> str:
    """Return the GB 11643 check character for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11]


def _birth_date(digits: str, *, today: date | None = None) -> date:
    try:
        born = date(int(digits[0:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError as exc:
        raise ValueError(f"ID number birth date {digits} is not a real date") from exc
    if born > (today or date.today()):  # noqa: DTZ011  (a calendar date, not a time)
        raise ValueError(f"ID number birth date {digits} is in the future")
    if born.year < 1900:
        raise ValueError(f"ID number birth date {digits} is before 1900")
    return born


def validate_id_number(value: str, *, today: date | None = None) -> str:
    """Return the normalized 18-character ID number or raise ``ValueError``.

    Normalization trims, drops spaces, folds full-width characters and upper-cases
    ``x``; a 15-digit legacy number is converted (``19`` inserted after the region,
    check character added).
    """
    number = normalize_code(value)
    if not number:
        raise ValueError("ID number is empty")
    if len(number) == 15:
        if not _DIGITS.fullmatch(number):
            raise ValueError("a 15-digit legacy ID number must be all digits")
        number = number[:6] + "19" + number[6:]
        number += id_check_char(number)
    elif len(number) != 18:
        raise ValueError(
            f"ID number must have 18 characters (or 15 for a legacy number), not {len(number)}"
        )
    if not _DIGITS.fullmatch(number[:17]):
        raise ValueError("ID number positions 1-17 must be digits")
    if not (number[17].isdigit() or number[17] == "X"):
        raise ValueError("ID number position 18 must be a digit or X")
    if number[:2] not in PROVINCE_CODES:
        raise ValueError(f"ID number positions 1-2 '{number[:2]}' are not a province code")
    _birth_date(number[6:14], today=today)
    expected = id_check_char(number[:17])
    if number[17] != expected:
        raise ValueError(
            f"ID number check character (position 18) is '{number[17]}', expected '{expected}'"
        )
    return number


def id_birth_date(number: str) -> date:
    """The birth date encoded in a valid 18-character ID number (positions 7-14)."""
    return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def id_sex(number: str) -> str:
    """``"male"`` when the 17th digit is odd, ``"female"`` when it is even."""
    return "male" if int(number[16]) % 2 else "female"


def id_region(number: str) -> str:
    """The six-digit region code where the number was first issued."""
    return number[:6]


def mask_id_number(number: str) -> str:
    """Show the first 4 and last 4 characters only: ``5001**********123X`` (DESIGN 4.1)."""
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def make_id_number(*, region: str, born: date, sequence: int, male: bool) -> str:
    """Build a valid ID number (demo data and tests); ``sequence`` gives digits 15-16."""
    order = f"{sequence % 100:02d}{(1 if male else 0) + 2 * (sequence % 5)}"
    first17 = f"{region}{born:%Y%m%d}{order}"
    return first17 + id_check_char(first17)


# --- Phone numbers ----------------------------------------------------------------------------

_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_LANDLINE = re.compile(r"0[1-9][0-9]{1,2}-?[2-9][0-9]{6,7}(-[0-9]{1,6})?")


def validate_phone(value: str) -> str:
    """Return a normalized mainland mobile or landline number or raise ``ValueError``."""
    phone = normalize_code(value).replace("(", "").replace(")", "")
    if phone.startswith("+86"):
        phone = phone[3:]
    phone = phone.lstrip("-")
    if _MOBILE.fullmatch(phone) or _LANDLINE.fullmatch(phone):
        return phone
    raise ValueError(
        "phone number must be an 11-digit mobile number (1xxxxxxxxxx) or a landline "
        "with its area code (023-63891234)"
    )


def mask_phone(phone: str) -> str:
    """Keep the first 3 and last 4 digits: ``138****1234``."""
    digits = phone.replace("-", "")
    if len(digits) <= 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
