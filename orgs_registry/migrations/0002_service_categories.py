"""Load the service catalogue of CONTRACTS.md section 0."""

from django.db import migrations

CATEGORIES = [
    ("elderly_care", "养老服务", "Elderly care"),
    ("child_youth", "儿童与青少年服务", "Children and youth"),
    ("disability", "残疾人服务", "Disability services"),
    ("community_correction", "社区矫正与安置帮教", "Community correction and resettlement"),
    ("community_governance", "社区治理", "Community governance"),
    ("volunteer_service", "志愿服务", "Volunteer services"),
    ("social_assistance", "社会救助", "Social assistance"),
    ("property_management", "物业管理服务", "Property management"),
    ("culture_sports", "文化体育服务", "Culture and sports"),
    ("mental_health", "心理健康服务", "Mental health"),
]


def load(apps, schema_editor):
    ServiceCategory = apps.get_model("orgs_registry", "ServiceCategory")
    for order, (code, name_zh, name_en) in enumerate(CATEGORIES, start=1):
        ServiceCategory.objects.update_or_create(
            code=code, defaults={"name_zh": name_zh, "name_en": name_en, "sort_order": order * 10}
        )


def unload(apps, schema_editor):
    apps.get_model("orgs_registry", "ServiceCategory").objects.filter(
        code__in=[code for code, _zh, _en in CATEGORIES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("orgs_registry", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]
