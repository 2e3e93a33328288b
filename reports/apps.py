import importlib
import importlib.util

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# One module per area registers its printable documents (reports.documents.register).
DOCUMENT_MODULES = (
    "reports.documents_tenders",
    "reports.documents_evaluation",
    "reports.documents_contracts",
    "reports.documents_registry",
    "reports.documents_integrity",
    "reports.documents_statistics",
)
# Navigation entries and dashboard cards of the reports app, one module per area.
DASHBOARD_MODULES = (
    "reports.dashboard_portal",
    "reports.dashboard_statistics",
)


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Reports and open data")

    def ready(self) -> None:
        for module in (*DOCUMENT_MODULES, *DASHBOARD_MODULES):
            if importlib.util.find_spec(module) is not None:
                importlib.import_module(module)
