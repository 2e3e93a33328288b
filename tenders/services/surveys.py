"""The beneficiary satisfaction survey (服务对象满意度): survey sites and public answers.

Each service site has a public link (and a QR code) that anyone may answer without an
account. A person answers once per contract and survey period (a calendar month,
``contracting.survey_period``), known only by a keyed hash of their mobile number, which
is never stored. Abuse limits: a honeypot field that people do not see, a signed
form-start time (too fast is a script, older than a day is a stale page), and at most
``contracting.SURVEY_ANSWERS_PER_ADDRESS_PER_HOUR`` answers per site and network address
an hour (the address, too, is stored only as a keyed hash).

Refusals are ``ValidationError`` with a code the pages and the API turn into their
answer: ``already_answered`` (409), ``rate_limited`` (429), ``closed``, ``too_fast``,
``stale_form``, ``bot``; field problems name their field.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta
from typing import Any

from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from marketplace.audit import audit_record
from marketplace.models import AuditAction, User
from marketplace.permissions import is_official
from orgs_registry.permissions import is_admin_of
from tenders import contracting
from tenders.models import Community, Contract, SurveyResponse, SurveySite
from tenders.permissions import delivery as permissions

RATINGS = ("overall", "quality", "attitude", "timeliness")
COMMENT_MAX = 500
SITE_NAME_MAX = 120
# An unfinished form is accepted for a day; a longer-open page is reloaded.
FORM_MAX_AGE = timedelta(days=1)
_FORM_SALT = "tenders.survey.form"
_RESPONDENT_SALT = "tenders.survey.respondent"
_ADDRESS_SALT = "tenders.survey.address"
# Mainland mobile numbers: 11 digits starting 13–19 (工信部 numbering plan).
_MOBILE = re.compile(r"1[3-9]\d{9}")
# A mobile number written into a comment, with or without separators, not inside a longer
# run of digits.
_MOBILE_IN_TEXT = re.compile(r"(?<!\d)(?:\+?86[\s-]?)?1[3-9]\d(?:[\s-]?\d){8}(?!\d)")


_HALF_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９＋－", "0123456789+-")


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def _lock(obj: Any) -> Any:
    return type(obj).objects.select_for_update().get(pk=obj.pk)


# --- Pure helpers ----------------------------------------------------------------------------


def normalize_mobile(raw: str) -> str | None:
    """The 11 digits of a mainland mobile number, or None when ``raw`` is not one.

    Full-width digits, spaces, dashes and a +86 / 86 / 0086 prefix are accepted.
    """
    text = unicodedata.normalize("NFKC", raw or "")
    digits = re.sub(r"[\s\-()]", "", text)
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == 11 + len(prefix):
            digits = digits[len(prefix) :]
            break
    return digits if _MOBILE.fullmatch(digits) else None


def redact_phones(text: str) -> str:
    """Comments are shown to the parties: a phone number typed into one is masked before
    it is stored (``138****5678``)."""

    def mask(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group(0))[-11:]
        return f"{digits[:3]}****{digits[-4:]}"

    # Full-width digits count as digits; the rest of the text is kept as written.
    return _MOBILE_IN_TEXT.sub(mask, (text or "").translate(_HALF_WIDTH_DIGITS))


def respondent_key(contract_id: int, mobile: str) -> str:
    """The respondent's identity for one contract: a keyed hash (HMAC with the site's
    secret key) of the normalized number, so that answers to different contracts cannot
    be linked and the number cannot be recovered."""
    return salted_hmac(_RESPONDENT_SALT, f"{contract_id}:{mobile}", algorithm="sha256").hexdigest()


def address_key(site_id: int, address: str) -> str:
    return salted_hmac(_ADDRESS_SALT, f"{site_id}:{address}", algorithm="sha256").hexdigest()


def survey_form_token(site: SurveySite, *, now: datetime | None = None) -> str:
    """The signed moment the form was shown, sent back with the answer."""
    moment = now or timezone.now()
    return signing.dumps({"site": site.pk, "at": moment.timestamp()}, salt=_FORM_SALT)


def _form_started(token: str, site: SurveySite) -> datetime:
    try:
        payload = signing.loads(token or "", salt=_FORM_SALT)
        started = datetime.fromtimestamp(float(payload["at"]), tz=timezone.get_current_timezone())
        same_site = int(payload["site"]) == site.pk
    except (signing.BadSignature, KeyError, TypeError, ValueError, OverflowError, OSError) as exc:
        raise ValidationError(
            _("The form could not be checked; open the survey page again."), code="stale_form"
        ) from exc
    if not same_site:
        raise ValidationError(
            _("The form could not be checked; open the survey page again."), code="stale_form"
        )
    return started


# --- Survey sites ------------------------------------------------------------------------------


def _check_setup(actor: User, contract: Contract) -> None:
    """A readable refusal for a party acting on a contract not (or no longer) in delivery."""
    may_manage = is_official(actor) or is_admin_of(actor, contract)
    if may_manage and contract.status not in permissions.SURVEY_SETUP_STATES:
        raise ValidationError(
            _("The contract is “%(state)s”: its survey sites cannot be changed.")
            % {"state": contract.get_status_display()},
            code="invalid_state",
        )
    _require(permissions.can_manage_survey_sites(actor, contract))


def survey_site_add(
    *, contract: Contract, actor: User, name: str, community: Community | None = None
) -> SurveySite:
    """An official or the supplier's administrator adds a service site with its own survey
    link, once the contract is signed."""
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": [_("Name the service site.")]})
    if len(name) > SITE_NAME_MAX:
        raise ValidationError({"name": [_("At most %(max)s characters.") % {"max": SITE_NAME_MAX}]})
    with transaction.atomic():
        contract = _lock(contract)
        _check_setup(actor, contract)
        if SurveySite.objects.filter(contract=contract, name=name).exists():
            raise ValidationError({"name": [_("This contract has a site of that name already.")]})
        site = SurveySite(contract=contract, name=name, community=community)
        site.save()
        audit_record(
            action=AuditAction.SURVEY_SITE_ADDED,
            actor=actor,
            obj=site,
            state_after="open",
            details={
                "contract": contract.pk,
                "name": name,
                "community": community.pk if community else None,
            },
        )
    return site


def _set_open(site: SurveySite, actor: User, *, is_open: bool) -> SurveySite:
    with transaction.atomic():
        contract = _lock(site.contract)
        site = _lock(site)
        _check_setup(actor, contract)
        if site.is_open == is_open:
            raise ValidationError(
                _("The site accepts answers already.")
                if is_open
                else _("The site is closed already."),
                code="invalid_state",
            )
        site.is_open = is_open
        site.save(update_fields=["is_open"])
        audit_record(
            action=AuditAction.SURVEY_SITE_OPENED if is_open else AuditAction.SURVEY_SITE_CLOSED,
            actor=actor,
            obj=site,
            state_before="closed" if is_open else "open",
            state_after="open" if is_open else "closed",
            details={"contract": contract.pk, "name": site.name},
        )
    return site


def survey_site_close(*, site: SurveySite, actor: User) -> SurveySite:
    """Stop taking answers at a site (the service moved, or the code was misused)."""
    return _set_open(site, actor, is_open=False)


def survey_site_open(*, site: SurveySite, actor: User) -> SurveySite:
    return _set_open(site, actor, is_open=True)


# --- Answers -----------------------------------------------------------------------------------


def _rating(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if 1 <= number <= 5 else None


def survey_answer(
    *,
    site: SurveySite,
    phone: str,
    overall: Any,
    quality: Any,
    attitude: Any,
    timeliness: Any,
    comment: str = "",
    address: str,
    started_at: str,
    honeypot: str = "",
) -> SurveyResponse:
    """A beneficiary answers the survey of a site: four ratings from 1 to 5 and a comment.

    ``started_at`` is the signed token of ``survey_form_token``; ``honeypot`` the hidden
    field that only scripts fill in; ``address`` the caller's network address.
    """
    if (honeypot or "").strip():
        raise ValidationError(_("The answer could not be accepted."), code="bot")
    if not permissions.survey_accepts_answers(site):
        raise ValidationError(_("This survey is not taking answers at the moment."), code="closed")
    now = timezone.now()
    started = _form_started(started_at, site)
    if now - started < timedelta(seconds=contracting.SURVEY_MIN_SECONDS):
        raise ValidationError(
            _("The form was sent too quickly; please read the questions and send it again."),
            code="too_fast",
        )
    if now - started > FORM_MAX_AGE:
        raise ValidationError(
            _("The form was open for more than a day; open the survey page again."),
            code="stale_form",
        )
    errors: dict[str, list[str]] = {}
    mobile = normalize_mobile(phone)
    if mobile is None:
        errors["phone"] = [_("Give an 11-digit mainland mobile number, such as 13812345678.")]
    given = {"overall": overall, "quality": quality, "attitude": attitude, "timeliness": timeliness}
    ratings: dict[str, int] = {}
    for name in RATINGS:
        value = _rating(given[name])
        if value is None:
            errors[name] = [_("Choose a rating from 1 to 5.")]
        else:
            ratings[name] = value
    comment = redact_phones((comment or "").strip())
    if len(comment) > COMMENT_MAX:
        errors["comment"] = [_("At most %(max)s characters.") % {"max": COMMENT_MAX}]
    if errors:
        raise ValidationError(errors)
    assert mobile is not None  # noqa: S101 (checked above; for the type checker)
    period = contracting.survey_period(timezone.localdate(now))
    address_hash = address_key(site.pk, address or "")
    with transaction.atomic():
        # The site row serializes answers to one site, so the hourly count holds.
        site = SurveySite.objects.select_for_update().select_related("contract").get(pk=site.pk)
        if not permissions.survey_accepts_answers(site):
            raise ValidationError(
                _("This survey is not taking answers at the moment."), code="closed"
            )
        recent = SurveyResponse.objects.filter(
            site=site, address=address_hash, submitted_at__gt=now - timedelta(hours=1)
        ).count()
        if recent >= contracting.SURVEY_ANSWERS_PER_ADDRESS_PER_HOUR:
            raise ValidationError(
                _("Too many answers came from your network in the last hour; try again later."),
                code="rate_limited",
            )
        respondent = respondent_key(site.contract_id, mobile)
        already = _("You have answered this survey this month already. Thank you!")
        if SurveyResponse.objects.filter(
            contract_id=site.contract_id, period=period, respondent=respondent
        ).exists():
            raise ValidationError(already, code="already_answered")
        response = SurveyResponse(
            site=site,
            contract_id=site.contract_id,
            period=period,
            respondent=respondent,
            address=address_hash,
            comment=comment,
            submitted_at=now,
            **ratings,
        )
        try:
            with transaction.atomic():
                response.save()
        except IntegrityError as exc:  # the same person at the same moment, twice
            raise ValidationError(already, code="already_answered") from exc
    # Not in the audit log: an answer changes no state, and an event would carry the
    # respondent's network address in the clear (the log records each caller's address).
    return response
