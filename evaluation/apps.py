from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvaluationConfig(AppConfig):
    name = "evaluation"
    verbose_name = _("Evaluation")

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from evaluation.tasks_integrity import on_audit_event
        from marketplace.models import AuditEvent

        # Bid openings, rankings and contract changes queue the integrity screens (DESIGN 5).
        post_save.connect(on_audit_event, sender=AuditEvent, dispatch_uid="integrity_triggers")
