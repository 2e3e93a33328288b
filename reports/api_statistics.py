"""API v1: ``GET /api/v1/statistics/?year=&category=``, the figures of the statistics page as
JSON, for anyone (no login). Officials and auditors calling with their token get their own
figures (every flag status, mid-term evaluations), as on the page.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from marketplace.api_base import error_responses
from reports import statistics
from reports.statistics import Filters


def money(**kwargs: Any) -> serializers.DecimalField:
    """An amount in yuan, as a string with two decimals."""
    return serializers.DecimalField(max_digits=18, decimal_places=2, **kwargs)


class StatisticsQuerySerializer(serializers.Serializer):
    year = serializers.IntegerField(
        required=False,
        min_value=statistics.YEAR_MIN,
        max_value=statistics.YEAR_MAX,
        help_text=_("A calendar year; every year when left out."),
    )
    category = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text=_("A service category code (e.g. elderly_care); all when left out."),
    )

    def validate_category(self, value: str) -> str:
        codes = {code for code, _name in statistics.filter_choices().categories}
        if value and value not in codes:
            raise serializers.ValidationError(_("No service category has this code."))
        return value


class YearSpendingSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    subsidies = money(help_text=_("Subsidy ledger, yuan."))
    awarded = money(help_text=_("Awarded by open competition."))
    contracted = money()
    paid = money(help_text=_("Paid on milestones."))
    tender_share = serializers.FloatField(
        allow_null=True, help_text=_("Awarded / (awarded + subsidies), percent.")
    )


class BreakdownSerializer(serializers.Serializer):
    key = serializers.CharField(help_text=_("The category, community or method code."))
    # A field named like Field.label: the serializer's metaclass takes it out of the class.
    label = serializers.CharField()  # type: ignore[assignment]
    tenders = serializers.IntegerField()
    amount = money()
    share = serializers.FloatField(allow_null=True, help_text=_("Percent of the total."))


class BidsDistributionSerializer(serializers.Serializer):
    bids = serializers.IntegerField()
    tenders = serializers.IntegerField()
    or_more = serializers.BooleanField(help_text=_("The row counts this many bids or more."))


class BidsYearSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    tenders = serializers.IntegerField()
    mean_bids = serializers.FloatField(allow_null=True)
    single_bid_share = serializers.FloatField(allow_null=True)


class BiddersSerializer(serializers.Serializer):
    tenders = serializers.IntegerField(help_text=_("Tenders opened."))
    mean_bids = serializers.FloatField(allow_null=True)
    single_bid_share = serializers.FloatField(
        allow_null=True, help_text=_("Percent of opened tenders with exactly one valid bid.")
    )
    distribution = BidsDistributionSerializer(many=True)
    per_year = BidsYearSerializer(many=True)


class RatioBinSerializer(serializers.Serializer):
    low = serializers.FloatField()
    high = serializers.FloatField(allow_null=True, help_text=_("Null: no upper bound."))
    awards = serializers.IntegerField()


class PricesSerializer(serializers.Serializer):
    awards = serializers.IntegerField()
    mean_ratio = serializers.FloatField(allow_null=True, help_text=_("Award price / budget."))
    mean_saving = serializers.FloatField(allow_null=True, help_text=_("Percent."))
    budget_total = money()
    price_total = money()
    saving_total = money()
    saving_share = serializers.FloatField(allow_null=True)
    distribution = RatioBinSerializer(many=True)


class GradesYearSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    excellent = serializers.IntegerField()
    good = serializers.IntegerField()
    fair = serializers.IntegerField()
    poor = serializers.IntegerField()
    total = serializers.IntegerField()


class FlagKindSerializer(serializers.Serializer):
    kind = serializers.CharField()
    # A field named like Field.label: the serializer's metaclass takes it out of the class.
    label = serializers.CharField()  # type: ignore[assignment]
    counts = serializers.DictField(
        child=serializers.IntegerField(),
        help_text=_(
            "Per status: confirmed and resolved for the public, every status for "
            "officials and auditors."
        ),
    )
    total = serializers.IntegerField()


class StatisticsSerializer(serializers.Serializer):
    year = serializers.IntegerField(allow_null=True)
    category = serializers.CharField(allow_null=True)
    audience = serializers.ChoiceField(choices=statistics.AUDIENCES)
    generated_at = serializers.DateTimeField()
    spending_by_year = YearSpendingSerializer(many=True)
    spending_by_category = BreakdownSerializer(many=True)
    spending_by_community = BreakdownSerializer(many=True)
    spending_by_method = BreakdownSerializer(many=True)
    bidders = BiddersSerializer()
    price_to_budget = PricesSerializer()
    evaluation_grades = GradesYearSerializer(many=True)
    flags = FlagKindSerializer(many=True)


class StatisticsView(APIView):
    """The statistics of the policy's shift: money through open competition against the
    subsidy ledger per year, awarded money by category, community and method, bids per
    tender, prices against budgets, performance grades and integrity flags by kind.

    Figures are recomputed every few minutes (``generated_at``); only published information
    counts (no sealed bid, not even as a number).
    """

    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="statistics_retrieve",
        parameters=[StatisticsQuerySerializer],
        responses={200: StatisticsSerializer, **error_responses(400)},
    )
    def get(self, request: Request) -> Response:
        query = StatisticsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data: dict[str, Any] = query.validated_data
        filters = Filters(year=data.get("year"), category=data.get("category") or None)
        report = statistics.report_for(
            filters=filters, audience=statistics.audience_for(request.user)
        )
        return Response(StatisticsSerializer(statistics.statistics_payload(report.stats)).data)
