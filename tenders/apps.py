from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TendersConfig(AppConfig):
    name = "tenders"
    verbose_name = _("Tenders")

    def ready(self) -> None:
        from django.db.models import Q

        from marketplace.audit import register_embargo
        from tenders import commitments  # noqa: F401  (registers open bids as commitments)
        from tenders.models import Tender
        from tenders.page_cache import connect_signals

        connect_signals()

        @register_embargo
        def _unopened_bids() -> Q:
            # Events about bids of tenders not yet opened (a cancelled tender's bids stay
            # sealed for good): their existence alone would tell who bid and how many.
            sealed = Tender.objects.filter(opened_at__isnull=True, bids__isnull=False)
            keys = [str(pk) for pk in sealed.values_list("pk", flat=True).distinct()]
            # has_key first: excluding on a missing JSON key alone would be SQL NULL and
            # hide every other event too.
            return (
                Q(details__has_key="sealed_tender", details__sealed_tender__in=keys)
                if keys
                else Q(pk__in=[])
            )
