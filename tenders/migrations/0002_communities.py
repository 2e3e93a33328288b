"""The communities (社区) of the reference street office, 解放碑街道 (渝中区).

Another street office replaces this list with its own by a data migration.
"""

from django.db import migrations

COMMUNITIES = [
    ("minzu_road", "民族路社区", "Minzu Road"),
    ("wuyi_road", "五一路社区", "Wuyi Road"),
    ("xinhua_road", "新华路社区", "Xinhua Road"),
    ("jiaochangkou", "较场口社区", "Jiaochangkou"),
    ("zourong_road", "邹容路社区", "Zourong Road"),
    ("xiaoshizi", "小什字社区", "Xiaoshizi"),
    ("peoples_park", "人民公园社区", "People's Park"),
    ("dajingxiang", "大井巷社区", "Dajingxiang"),
    ("bayi_road", "八一路社区", "Bayi Road"),
]


def load(apps, schema_editor):
    Community = apps.get_model("tenders", "Community")
    for order, (code, name_zh, name_en) in enumerate(COMMUNITIES, start=1):
        Community.objects.update_or_create(
            code=code, defaults={"name_zh": name_zh, "name_en": name_en, "sort_order": order * 10}
        )


def unload(apps, schema_editor):
    apps.get_model("tenders", "Community").objects.filter(
        code__in=[code for code, _zh, _en in COMMUNITIES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("tenders", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]
