"""The default programme: 30 % on the first accepted report, 40 % after the mid-term and
30 % after the final evaluation, paid at 中 (fair) or better (DESIGN 4.5)."""

from django.db import migrations

from tenders.contracting import DEFAULT_PAYMENT_PLAN


def create(apps, schema_editor):
    Programme = apps.get_model("tenders", "Programme")
    Programme.objects.update_or_create(
        code="standard",
        defaults={
            "name_zh": "街道购买社区服务项目（标准付款计划）",
            "name_en": "Community services bought by the street office (standard payment plan)",
            "payment_plan": DEFAULT_PAYMENT_PLAN,
            "pass_grade": "fair",
            "is_default": True,
        },
    )


def remove(apps, schema_editor):
    Programme = apps.get_model("tenders", "Programme")
    Programme.objects.filter(code="standard", contracts__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("tenders", "0006_contracts")]

    operations = [migrations.RunPython(create, remove)]
