"""Spreadsheet exports of the list pages: CSV and XLSX of exactly what a list shows.

Every list page has an ``ExportList`` here: its columns, and a function that reads its rows
through the page's own selector and FilterSet with the page's query parameters, over all
its pages. An export therefore holds the rows the user could page through and nothing
more: an organization exports only what it sees, a sealed bid is in no export (the bids of
a tender are listed only after the opening, a 404 before), and a bad filter value raises
``InvalidFilters`` (a 400 with the form's errors) instead of giving an empty file.

The lists: ``tenders`` (tenders:list), ``bids`` (the opened bids of one tender,
tenders:review), ``organizations`` (orgs_registry:directory), ``registrations`` (the
registry's list of every registration), ``contracts`` (tenders:contracts), ``performance``
(evaluation:performance_list), ``grades`` (orgs_registry:grade_list) and ``flags``
(evaluation:integrity_queue). The official's workspace is a set of work queues, not a
list with filters, and has no export.

Rows are read with ``.values()`` in one query, iterated in chunks of ``CHUNK_SIZE``, plus
one query per many-valued column (service categories, communities, staffing plans) and one
count: the number of queries does not grow with the rows. An export holds at most
``ROW_LIMIT`` rows in CSV (100,000) and ``XLSX_ROW_LIMIT`` in XLSX (25,000: openpyxl
writes a cell in ~20 µs); beyond that ``TooManyRows`` (a 400 whose message asks to narrow
the filters), so one request never builds an unbounded file.

Values: choices as their labels, money and scores as numbers, dates as dates (date-times
in the street office's time zone), headers in the reader's language. Personal data (ID
numbers, phones) is masked unless the user's role shows it whole on the page
(``Column.masked_unless``). Text that a spreadsheet would read as a formula (starting with
``= + - @``, a tab or a carriage return) gets a leading apostrophe in both formats (OWASP
"CSV injection").
"""

from __future__ import annotations

import io
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pandas as pd
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext, pgettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from evaluation.models import FlagKind, FlagSeverity, FlagStatus, PerformanceEvaluationStatus
from evaluation.permissions import integrity as integrity_permissions
from evaluation.selectors import integrity as integrity_selectors
from evaluation.selectors import performance as performance_selectors
from marketplace.models import Role
from marketplace.permissions import has_role, is_org_user
from orgs_registry import permissions as registry_permissions
from orgs_registry import selectors as registry_selectors
from orgs_registry.identifiers import mask_id_number, mask_phone
from orgs_registry.models import (
    Grade,
    GradeAssessmentStatus,
    Organization,
    OrganizationKind,
    OrganizationStatus,
)
from tenders import permissions as tender_permissions
from tenders import selectors as tender_selectors
from tenders.models import (
    BidStaff,
    BidStatus,
    ContractStatus,
    EvaluationKind,
    PerformanceGrade,
    ProcurementMethod,
    Tender,
    TenderStatus,
)
from tenders.selectors import contracts as contract_selectors

# The most rows one export holds, per format; narrower filters give the rest. Writing
# XLSX costs ~0.25 ms of CPU a row of 12 cells (openpyxl, write-only), CSV ~0.03 ms: the
# limits keep one request under ~10 s of work.
ROW_LIMIT = 100_000
XLSX_ROW_LIMIT = 25_000
ROW_LIMITS = {"csv": ROW_LIMIT, "xlsx": XLSX_ROW_LIMIT}
# Rows fetched from the database at a time while an export is read.
CHUNK_SIZE = 2_000
# A text cell starting with one of these is run as a formula by spreadsheet programs.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# Column widths in the XLSX (in characters; a Chinese character counts two).
MIN_WIDTH, MAX_WIDTH, WIDTH_SAMPLE = 8, 60, 500
# Number formats of the XLSX cells by the type of the value.
MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"

TEXT, MONEY, NUMBER, DATE, DATETIME, BOOLEAN = (
    "text",
    "money",
    "number",
    "date",
    "datetime",
    "boolean",
)

Label = str | Promise
# Whether the user sees a column whole: True/False for every row, or a boolean Series
# over the rows (the raw frame, whose columns are the keys of the rows).
MaskRule = Callable[[Any, pd.DataFrame], "bool | pd.Series"]


class ExportError(Exception):
    """An export that cannot be made; ``detail`` says why, ``fields`` per query parameter."""

    code = "export_error"

    def __init__(self, detail: str, fields: Mapping[str, list[str]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.fields = dict(fields or {})


class InvalidFilters(ExportError):
    code = "invalid_filter"


class TooManyRows(ExportError):
    code = "too_many_rows"

    def __init__(self, count: int, *, limit: int, fmt: str) -> None:
        detail = gettext(
            "%(count)s rows match; an export to %(format)s holds at most %(limit)s. "
            "Narrow the filters and export again."
        ) % {"count": f"{count:,}", "format": fmt.upper(), "limit": f"{limit:,}"}
        if limit < ROW_LIMIT:
            detail += " " + gettext("A CSV export holds up to %(limit)s rows.") % {
                "limit": f"{ROW_LIMIT:,}"
            }
        super().__init__(detail)
        self.count = count
        self.limit = limit


@dataclass(frozen=True)
class Column:
    """One column of an export: the row key it reads, its header and how values show.

    ``choices`` (a ``TextChoices`` class or a mapping) turns stored codes into labels.
    ``masked_unless(user, rows)`` says who sees the value whole; everyone else gets
    ``mask(value)``.
    """

    key: str
    label: Label
    kind: str = TEXT
    choices: Any = None
    masked_unless: MaskRule | None = None
    mask: Callable[[str], str] | None = None


Rows = list[dict[str, Any]]


@dataclass(frozen=True)
class Query:
    """What an export is asked for: by whom, the list's query parameters, the object whose
    rows they are (``scoped`` lists) and the format (which sets the row limit)."""

    user: Any
    params: Mapping[str, Any]
    pk: int | None = None
    fmt: str = "csv"

    @property
    def limit(self) -> int:
        return ROW_LIMITS.get(self.fmt, ROW_LIMIT)


@dataclass(frozen=True)
class ExportList:
    """A list page that exports: its name in URLs, its title (the sheet's), its columns and
    ``rows(query)``, the rows the page shows for the query's parameters.

    ``scoped`` lists take the pk of the object whose rows they are (the bids of a tender);
    ``login_required`` lists send anonymous visitors to sign in, as their pages do.
    """

    name: str
    title: Label
    columns: tuple[Column, ...]
    rows: Callable[[Query], Rows]
    login_required: bool = False
    scoped: bool = False

    def __post_init__(self) -> None:
        keys = tuple(column.key for column in self.columns)
        if len(set(keys)) != len(keys):
            raise ValueError(f"export {self.name}: a column key is used twice")

    def file_stem(self, pk: int | None = None) -> str:
        return f"{self.name}-{pk}" if self.scoped and pk is not None else self.name


_registry: dict[str, ExportList] = {}


def register(export: ExportList) -> ExportList:
    _registry[export.name] = export
    return export


def export_list(name: str) -> ExportList:
    """The export called ``name``; LookupError for an unknown one."""
    try:
        return _registry[name]
    except KeyError:
        raise LookupError(
            f"unknown export {name!r}; known: {', '.join(sorted(_registry))}"
        ) from None


def export_names() -> list[str]:
    return sorted(_registry)


# --- Frames -------------------------------------------------------------------------------------


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _labels(choices: Any) -> dict[str, str]:
    pairs = choices.choices if hasattr(choices, "choices") else dict(choices).items()
    return {str(code): str(label) for code, label in pairs}


def _column_values(column: Column, raw: pd.DataFrame, user: Any) -> pd.Series:
    # Missing values are None whatever pandas made of them (NaN, NaT, pd.NA).
    series = pd.Series(
        [None if _missing(v) else v for v in raw[column.key].tolist()],
        index=raw.index,
        dtype=object,
    )
    if column.masked_unless is not None and column.mask is not None:
        whole = column.masked_unless(user, raw)
        mask = column.mask
        masked = series.map(lambda v: mask(v) if isinstance(v, str) and v else v)
        series = (
            series.where(whole, masked)
            if isinstance(whole, pd.Series)
            else (series if whole else masked)
        )
    if column.choices is not None:
        labels = _labels(column.choices)
        series = series.map(lambda v: None if _missing(v) else labels.get(str(v), v))
    if column.kind == DATETIME:
        moments = pd.to_datetime(series, utc=True)
        zone = str(settings.TIME_ZONE)
        return moments.dt.tz_convert(zone).dt.tz_localize(None).dt.floor("s")
    if column.kind == BOOLEAN:
        yes, no = gettext("Yes"), gettext("No")
        return series.map(lambda v: None if _missing(v) else (yes if v else no))
    if column.kind == MONEY:
        return series.map(lambda v: None if _missing(v) else Decimal(str(v)))
    if column.kind == NUMBER:
        return series.map(lambda v: Decimal(v) if isinstance(v, str) else v)
    if column.kind == DATE:
        return series.map(lambda v: v.date() if isinstance(v, datetime) else v)
    return series.map(lambda v: None if _missing(v) else str(v))


def frame_from_rows(columns: Iterable[Column], rows: Rows, *, user: Any) -> pd.DataFrame:
    """The rows as a DataFrame: one column per ``Column``, headed by its label in the
    active language, values converted and masked for ``user``."""
    columns = list(columns)
    raw = pd.DataFrame.from_records(rows) if rows else pd.DataFrame()
    for column in columns:
        if column.key not in raw.columns:
            raw[column.key] = pd.Series([None] * len(raw), dtype=object)
    data = {str(column.label): _column_values(column, raw, user) for column in columns}
    return pd.DataFrame(data, columns=list(data))


def read_rows(query: Query, queryset: QuerySet, fields: Iterable[str]) -> Rows:
    """``fields`` of every row of ``queryset`` in its order, in chunks; ``TooManyRows``
    beyond the query's row limit (counted first, so nothing is read then)."""
    queryset = queryset.prefetch_related(None)
    count = queryset.count()
    if count > query.limit:
        raise TooManyRows(count, limit=query.limit, fmt=query.fmt)
    return list(queryset.values(*fields).iterator(chunk_size=CHUNK_SIZE))


def export_frame(
    name: str,
    *,
    user: Any,
    params: Mapping[str, Any],
    pk: int | None = None,
    fmt: str = "csv",
) -> pd.DataFrame:
    """The export ``name`` for ``user`` with the list's query ``params``.

    Raises ``LookupError`` (unknown list), ``InvalidFilters``, ``TooManyRows``, and
    ``Http404`` / ``PermissionDenied`` exactly where the list's page does.
    """
    export = export_list(name)
    query = Query(user=user, params=params, pk=pk, fmt=fmt)
    rows = export.rows(query)
    return frame_from_rows(export.columns, rows, user=user)


# --- Writing ------------------------------------------------------------------------------------


def neutralize(value: Any) -> Any:
    """A text that a spreadsheet would run as a formula, kept as text (a leading ')."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def _neutral_frame(frame: pd.DataFrame) -> pd.DataFrame:
    safe = frame.copy()
    safe.columns = [neutralize(str(label)) for label in frame.columns]
    for index in range(safe.shape[1]):
        series = safe.iloc[:, index]
        if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
            safe.isetitem(index, series.map(neutralize).astype(object))
    return safe


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """CSV in UTF-8 with a byte-order mark, so that Excel reads the Chinese right."""
    text = _neutral_frame(frame).to_csv(index=False, lineterminator="\r\n")
    return text.encode("utf-8-sig")


def _display_width(value: Any) -> int:
    """Characters the value takes in the sheet (as formatted); a Chinese one counts two."""
    if isinstance(value, datetime):
        return len("2026-01-01 00:00")
    if isinstance(value, date):
        return len("2026-01-01")
    if isinstance(value, Decimal):
        return len(f"{value:,.2f}")
    text = str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _widths(frame: pd.DataFrame) -> list[int]:
    sample = frame.head(WIDTH_SAMPLE)
    widths = []
    for index, label in enumerate(frame.columns):
        values = [v for v in sample.iloc[:, index] if not _missing(v)]
        longest = max([_display_width(label), *(_display_width(v) for v in values)])
        widths.append(min(max(longest + 2, MIN_WIDTH), MAX_WIDTH))
    return widths


def sheet_title(title: str) -> str:
    """A worksheet name Excel accepts: no ``[]:*?/\\``, at most 31 characters."""
    cleaned = "".join(ch for ch in title if ch not in "[]:*?/\\").strip("' ")
    return cleaned[:31] or "Sheet1"


def _cell(sheet: Any, value: Any) -> Any:
    if _missing(value):
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = DATETIME_FORMAT
        return cell
    if isinstance(value, date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = DATE_FORMAT
        return cell
    if isinstance(value, Decimal):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = MONEY_FORMAT
        return cell
    if isinstance(value, str):
        # Control characters are not allowed in the XML of a worksheet.
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def to_xlsx_bytes(frame: pd.DataFrame, *, title: str = "Sheet1") -> bytes:
    """One worksheet: a bold, frozen header row, widths fitted to the content, numbers and
    dates as such. Written in openpyxl's write-only mode (flat memory for big lists)."""
    safe = _neutral_frame(frame)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title(title))
    sheet.freeze_panes = "A2"
    for index, width in enumerate(_widths(safe), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    bold = Font(bold=True)
    header = []
    for label in safe.columns:
        cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", str(label)))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in safe.itertuples(index=False, name=None):
        sheet.append([_cell(sheet, value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- Shared helpers of the lists -----------------------------------------------------------------


def _check(filterset: Any) -> None:
    """``InvalidFilters`` with the form's errors when the page would show them."""
    if filterset is not None and filterset.is_bound and not filterset.is_valid():
        errors = {
            name: [str(error["message"]) for error in messages]
            for name, messages in filterset.form.errors.get_json_data().items()
        }
        raise InvalidFilters(gettext("The filters are not valid."), errors)


def _params_dict(params: Mapping[str, Any]) -> dict[str, Any]:
    """The query as the pages that call ``request.GET.dict()`` read it (last value wins)."""
    return params.dict() if hasattr(params, "dict") else dict(params)


def _bound(params: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The query as the pages that pass ``request.GET or None`` read it."""
    return params or None


def _name(zh: str | None, en: str | None) -> str:
    return (en or zh or "") if (get_language() or "").startswith("en") else (zh or en or "")


def _joined(names: Iterable[str]) -> str:
    return pgettext("list separator", ", ").join(names)


def _require_login(user: Any) -> None:
    if not getattr(user, "is_authenticated", False):
        raise PermissionDenied


# --- Tenders -------------------------------------------------------------------------------------


def _tender_rows(query: Query) -> Rows:
    user, params = query.user, query.params
    tenders, filterset = tender_selectors.tender_directory(user, filters=_params_dict(params))
    _check(filterset)
    rows = read_rows(
        query,
        tenders,
        [
            "pk",
            "reference",
            "title",
            "category__name_zh",
            "category__name_en",
            "method",
            "budget",
            "service_start",
            "service_end",
            "question_deadline",
            "bid_deadline",
            "published_at",
            "status",
        ],
    )
    communities: dict[int, list[str]] = defaultdict(list)
    links = (
        Tender.communities.through.objects.filter(tender_id__in=tenders.values("pk"))
        .order_by("community__sort_order", "community__code")
        .values_list("tender_id", "community__name_zh", "community__name_en")
    )
    for tender_id, name_zh, name_en in links:
        communities[tender_id].append(_name(name_zh, name_en))
    now = timezone.now()
    for row in rows:
        row["category"] = _name(row["category__name_zh"], row["category__name_en"])
        row["communities"] = _joined(communities.get(row["pk"], []))
        # As the list shows it: past its deadline a published tender is closed.
        if row["status"] == TenderStatus.PUBLISHED and now >= row["bid_deadline"]:
            row["status"] = TenderStatus.CLOSED
    return rows


register(
    ExportList(
        name="tenders",
        title=_("Tenders"),
        rows=_tender_rows,
        columns=(
            Column("reference", _("Reference")),
            Column("title", pgettext_lazy("tender", "Title")),
            Column("category", _("Service category")),
            Column("method", _("Procurement method"), choices=ProcurementMethod),
            Column("budget", _("Budget ceiling (yuan)"), kind=MONEY),
            Column("communities", _("Communities")),
            Column("service_start", _("Service starts"), kind=DATE),
            Column("service_end", _("Service ends"), kind=DATE),
            Column("published_at", _("Published"), kind=DATETIME),
            Column("question_deadline", _("Questions until"), kind=DATETIME),
            Column("bid_deadline", _("Bid deadline"), kind=DATETIME),
            Column("status", _("Status"), choices=TenderStatus),
        ),
    )
)


# --- Bids of a tender, after the opening -------------------------------------------------------


def _bid_rows(query: Query) -> Rows:
    user, pk = query.user, query.pk
    _require_login(user)
    tender = tender_selectors.tender_get_for_user(user, pk)
    # Sealed until the opening: no export, not even an empty one, that would say the
    # list exists (the same 404 as a tender the user may not read).
    if not tender_permissions.can_see_bids_of(user, tender):
        raise Http404
    bids = tender_selectors.bid_list_for_user(user, tender)
    rows = read_rows(
        query,
        bids,
        [
            "pk",
            "organization_id",
            "organization__name",
            "organization__uscc",
            "price",
            "submitted_at",
            "content_sha256",
            "status",
            "warnings",
            "review_reason",
        ],
    )
    # Whole ID numbers for those the review page shows them to (DESIGN 4.1).
    whole = {
        organization_id: registry_permissions.can_view_id_number(
            user, Organization(pk=organization_id)
        )
        for organization_id in {row["organization_id"] for row in rows}
    }
    owner = {row["pk"]: row["organization_id"] for row in rows}
    plans: dict[Any, list[str]] = defaultdict(list)
    staff = (
        BidStaff.objects.filter(bid_id__in=bids.values("pk"))
        .order_by("pk")
        .values_list("bid_id", "person__name", "person__id_number", "role", "fte")
    )
    for bid_id, name, id_number, role, fte in staff:
        if bid_id not in owner:
            continue
        shown = id_number if whole[owner[bid_id]] else mask_id_number(id_number or "")
        plans[bid_id].append(f"{name} ({shown}, {role}, {fte})")
    for row in rows:
        row["staff"] = "; ".join(plans.get(row["pk"], []))
        row["warnings"] = "; ".join(
            str(warning.get("message", "")) if isinstance(warning, Mapping) else str(warning)
            for warning in row["warnings"] or []
        )
    return rows


register(
    ExportList(
        name="bids",
        title=_("Opened bids"),
        rows=_bid_rows,
        login_required=True,
        scoped=True,
        columns=(
            Column("organization__name", _("Organization")),
            Column("organization__uscc", _("Unified Social Credit Code")),
            Column("price", _("Price (yuan)"), kind=MONEY),
            Column("submitted_at", _("Received"), kind=DATETIME),
            Column("content_sha256", _("SHA-256 of the bid")),
            Column("status", _("Status"), choices=BidStatus),
            Column("warnings", _("Warnings")),
            Column("review_reason", _("Reason for disqualification")),
            Column("staff", _("Staffing plan")),
        ),
    )
)


# --- Organizations -------------------------------------------------------------------------------


def _sees_phones(user: Any, rows: pd.DataFrame) -> bool | pd.Series:
    """Whole phones: the registry and auditors, and an organization's own people (their
    organization's pages show it whole); the public profile shows it masked."""
    if registry_permissions.is_registry_admin(user) or has_role(user, Role.AUDITOR):
        return True
    if is_org_user(user):
        return rows["pk"] == user.organization_id
    return False


def _organization_rows(query: Query, *, everything: bool) -> Rows:
    user, params = query.user, query.params
    organizations, filterset = registry_selectors.organization_directory(
        user, filters=_params_dict(params), everything=everything
    )
    _check(filterset)
    rows = read_rows(
        query,
        organizations,
        [
            "pk",
            "name",
            "uscc",
            "kind",
            "current_grade",
            "status",
            "on_serious_list",
            "legal_representative",
            "address",
            "registration_date",
            "phone",
            "email",
        ],
    )
    categories: dict[int, list[str]] = defaultdict(list)
    links = (
        Organization.categories.through.objects.filter(
            organization_id__in=organizations.values("pk")
        )
        .order_by("servicecategory__sort_order", "servicecategory__code")
        .values_list("organization_id", "servicecategory__name_zh", "servicecategory__name_en")
    )
    for organization_id, name_zh, name_en in links:
        categories[organization_id].append(_name(name_zh, name_en))
    for row in rows:
        row["categories"] = _joined(categories.get(row["pk"], []))
    return rows


def _directory_rows(query: Query) -> Rows:
    return _organization_rows(query, everything=False)


def _registration_rows(query: Query) -> Rows:
    user = query.user
    _require_login(user)
    if not registry_permissions.is_registry_admin(user):
        raise PermissionDenied
    return _organization_rows(query, everything=True)


ORGANIZATION_COLUMNS = (
    Column("name", pgettext_lazy("organization", "Name")),
    Column("uscc", _("Unified Social Credit Code")),
    Column("kind", _("Kind"), choices=OrganizationKind),
    Column("current_grade", _("Grade"), choices=Grade),
    Column("categories", _("Service categories")),
    Column("status", _("Status"), choices=OrganizationStatus),
    Column("on_serious_list", _("Serious-dishonesty list"), kind=BOOLEAN),
    Column("legal_representative", _("Legal representative")),
    Column("address", _("Registered address")),
    Column("registration_date", _("Registration date"), kind=DATE),
    Column("phone", _("Phone"), masked_unless=_sees_phones, mask=mask_phone),
    Column("email", _("E-mail")),
)

register(
    ExportList(
        name="organizations",
        title=_("Social organizations"),
        rows=_directory_rows,
        columns=ORGANIZATION_COLUMNS,
    )
)
register(
    ExportList(
        name="registrations",
        title=_("All registrations"),
        rows=_registration_rows,
        login_required=True,
        columns=ORGANIZATION_COLUMNS,
    )
)


# --- Contracts -----------------------------------------------------------------------------------


def _contract_rows(query: Query) -> Rows:
    user, params = query.user, query.params
    contracts, filterset = contract_selectors.contract_directory(user, filters=_bound(params))
    _check(filterset)
    return read_rows(
        query,
        contracts,
        [
            "pk",
            "reference",
            "title",
            "organization__name",
            "organization__uscc",
            "tender__reference",
            "price",
            "service_start",
            "service_end",
            "sign_due",
            "released_total",
            "withheld_total",
            "status",
        ],
    )


register(
    ExportList(
        name="contracts",
        title=_("Contracts"),
        rows=_contract_rows,
        columns=(
            Column("reference", _("Contract number")),
            Column("title", pgettext_lazy("contract", "Title")),
            Column("organization__name", _("Supplier")),
            Column("organization__uscc", _("Unified Social Credit Code")),
            Column("tender__reference", _("Tender reference")),
            Column("price", _("Price (yuan)"), kind=MONEY),
            Column("service_start", _("Service starts"), kind=DATE),
            Column("service_end", _("Service ends"), kind=DATE),
            Column("sign_due", _("To be signed by"), kind=DATE),
            Column("released_total", _("Released (yuan)"), kind=MONEY),
            Column("withheld_total", _("Withheld (yuan)"), kind=MONEY),
            Column("status", _("Status"), choices=ContractStatus),
        ),
    )
)


# --- Performance evaluations ---------------------------------------------------------------------


def _performance_rows(query: Query) -> Rows:
    user, params = query.user, query.params
    if has_role(user, Role.ASSESSOR):
        # The assessor's page is their workspace: their own evaluations, no filters.
        evaluations = performance_selectors.my_performance_evaluations(user)
    else:
        evaluations, filterset = performance_selectors.performance_evaluation_directory(
            user, filters=_bound(params)
        )
        _check(filterset)
    return read_rows(
        query,
        evaluations,
        [
            "pk",
            "contract__reference",
            "contract__title",
            "contract__organization__name",
            "kind",
            "due_date",
            "submitted_at",
            "total_score",
            "grade",
            "status",
        ],
    )


register(
    ExportList(
        name="performance",
        title=_("Performance evaluations"),
        rows=_performance_rows,
        columns=(
            Column("contract__reference", _("Contract number")),
            Column("contract__title", _("Contract")),
            Column("contract__organization__name", _("Organization")),
            Column("kind", _("Kind of evaluation"), choices=EvaluationKind),
            Column("due_date", _("Due"), kind=DATE),
            Column("submitted_at", _("Submitted"), kind=DATETIME),
            Column("total_score", _("Total score"), kind=NUMBER),
            Column("grade", pgettext_lazy("performance", "Result"), choices=PerformanceGrade),
            Column("status", _("Status"), choices=PerformanceEvaluationStatus),
        ),
    )
)


# --- Grade assessments ---------------------------------------------------------------------------

GRADE_STATUS_FILTER = "waiting"


def _grade_rows(query: Query) -> Rows:
    user, params = query.user, query.params
    _require_login(user)
    status = str(params.get("status", "") or "")
    # The page ignores an unknown status; an export says so instead of exporting all.
    if status and status != GRADE_STATUS_FILTER and status not in GradeAssessmentStatus.values:
        raise InvalidFilters(
            gettext("The filters are not valid."),
            {
                "status": [
                    gettext("Select a valid choice. %(value)s is not one of the available choices.")
                    % {"value": status}
                ]
            },
        )
    assessments = registry_selectors.grade_assessment_list_for_user(user, status=status)
    rows = read_rows(
        query,
        assessments.order_by("-requested_at", "-pk"),
        [
            "pk",
            "organization__name",
            "organization__uscc",
            "requested_at",
            "status",
            "assessor__full_name",
            "assessor__username",
            "total_score",
            "grade",
            "proposed_grade",
        ],
    )
    for row in rows:
        row["assessor"] = row["assessor__full_name"] or row["assessor__username"]
        row["grade"] = row["grade"] or row["proposed_grade"] or None
    return rows


register(
    ExportList(
        name="grades",
        title=_("Grade assessments"),
        rows=_grade_rows,
        login_required=True,
        columns=(
            Column("organization__name", _("Organization")),
            Column("organization__uscc", _("Unified Social Credit Code")),
            Column("requested_at", pgettext_lazy("date", "Requested"), kind=DATETIME),
            Column("status", _("Status"), choices=GradeAssessmentStatus),
            Column("assessor", _("Assessor")),
            Column("total_score", _("Total score"), kind=NUMBER),
            Column("grade", _("Grade"), choices=Grade),
        ),
    )
)


# --- Integrity flags -----------------------------------------------------------------------------


def _sees_id_numbers(user: Any, rows: pd.DataFrame) -> bool:
    """Whole ID numbers: auditors; officials see them masked, as on the flag's page."""
    return integrity_permissions.can_see_id_numbers(user)


def _flag_rows(query: Query) -> Rows:
    user, params = query.user, query.params
    _require_login(user)
    if not integrity_permissions.can_view_integrity_flags(user):
        raise PermissionDenied
    flags, filterset = integrity_selectors.flag_queue(user, filters=_bound(params))
    _check(filterset)
    return read_rows(
        query,
        flags,
        [
            "pk",
            "kind",
            "severity",
            "status",
            "subject_label",
            "tender__reference",
            "organization__name",
            "person__id_number",
            "score",
            "first_seen_at",
            "last_seen_at",
            "gone_at",
        ],
    )


register(
    ExportList(
        name="flags",
        title=_("Integrity flags"),
        rows=_flag_rows,
        login_required=True,
        columns=(
            Column("pk", _("Flag number"), kind=NUMBER),
            Column("kind", _("Kind"), choices=FlagKind),
            Column("severity", _("Severity"), choices=FlagSeverity),
            Column("status", _("Status"), choices=FlagStatus),
            Column("subject_label", _("Subject")),
            Column("tender__reference", _("Tender reference")),
            Column("organization__name", _("Organization")),
            Column(
                "person__id_number",
                _("National ID number"),
                masked_unless=_sees_id_numbers,
                mask=mask_id_number,
            ),
            Column("score", _("Score"), kind=NUMBER),
            Column("first_seen_at", _("First found"), kind=DATETIME),
            Column("last_seen_at", _("Last found"), kind=DATETIME),
            Column("gone_at", _("No longer found"), kind=DATETIME),
        ),
    )
)
