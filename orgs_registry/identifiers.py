"""National identifiers: the Unified Social Credit Code (GB 32100-2015).

Pure functions, no database. ``validate_uscc`` returns the normalized code or raises
``ValueError`` whose message names the rule that failed (CONTRACTS.md section 2).
"""

from __future__ import annotations

import re
import unicodedata

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
