"""Grade indicator sets (民政部令第39号): four groups, 1000 points, per organization kind.

The groups and weights follow the civil-affairs evaluation indicators for social groups,
social service agencies (民办非企业单位) and foundations; the registry may publish a new
version of a set (a new row with is_current) without touching past assessments.
"""

from django.db import migrations

BASIC = ("基础条件", "Basic conditions")
GOVERNANCE = ("内部治理", "Internal governance")
PERFORMANCE = ("工作绩效", "Work performance")
ACTIVITIES = ("业务活动和诚信建设", "Activities and integrity")
SOCIAL = ("社会评价", "Social evaluation")

COMMON_BASIC = [
    ("B1", BASIC, "法人资格", "Legal personality", 20),
    ("B2", BASIC, "章程", "Articles of association", 20),
    ("B3", BASIC, "登记和备案", "Registration and filings", 20),
]

SETS = {
    "social_group": (
        "社会团体评估指标",
        COMMON_BASIC
        + [
            ("G1", GOVERNANCE, "发展规划", "Development plan", 40),
            ("G2", GOVERNANCE, "组织机构", "Organizational structure", 60),
            ("G3", GOVERNANCE, "人力资源", "Human resources", 60),
            ("G4", GOVERNANCE, "领导班子建设", "Leadership", 40),
            ("G5", GOVERNANCE, "档案、证章管理", "Records and seals", 40),
            ("G6", GOVERNANCE, "财务资产管理", "Finance and assets", 140),
            ("P1", PERFORMANCE, "提供服务", "Services to members and society", 120),
            ("P2", PERFORMANCE, "反映诉求", "Voicing members' concerns", 60),
            ("P3", PERFORMANCE, "行业自律与规范行为", "Self-regulation", 60),
            ("P4", PERFORMANCE, "信息公开与宣传", "Disclosure and publicity", 60),
            ("P5", PERFORMANCE, "特色工作", "Distinctive work", 60),
            ("P6", PERFORMANCE, "党建工作", "Party building", 60),
            ("S1", SOCIAL, "会员评价", "Members' evaluation", 50),
            ("S2", SOCIAL, "社会公众评价", "Public evaluation", 40),
            ("S3", SOCIAL, "管理部门评价", "Authorities' evaluation", 50),
        ],
    ),
    "social_service_agency": (
        "社会服务机构评估指标",
        COMMON_BASIC
        + [
            ("G1", GOVERNANCE, "组织机构", "Organizational structure", 60),
            ("G2", GOVERNANCE, "决策与监督机制", "Decision-making and supervision", 60),
            ("G3", GOVERNANCE, "人力资源", "Human resources", 60),
            ("G4", GOVERNANCE, "财务资产管理", "Finance and assets", 160),
            ("G5", GOVERNANCE, "档案、证章管理", "Records and seals", 30),
            ("G6", GOVERNANCE, "党建工作", "Party building", 30),
            ("A1", ACTIVITIES, "业务活动", "Service activities", 160),
            ("A2", ACTIVITIES, "服务质量", "Service quality", 80),
            ("A3", ACTIVITIES, "诚信建设", "Integrity", 80),
            ("A4", ACTIVITIES, "信息公开", "Disclosure", 40),
            ("A5", ACTIVITIES, "社会影响", "Social impact", 40),
            ("S1", SOCIAL, "服务对象评价", "Beneficiaries' evaluation", 60),
            ("S2", SOCIAL, "内部评价", "Staff evaluation", 30),
            ("S3", SOCIAL, "管理部门评价", "Authorities' evaluation", 50),
        ],
    ),
    "foundation": (
        "基金会评估指标",
        COMMON_BASIC
        + [
            ("G1", GOVERNANCE, "组织机构", "Organizational structure", 60),
            ("G2", GOVERNANCE, "决策与监督机制", "Decision-making and supervision", 70),
            ("G3", GOVERNANCE, "人力资源", "Human resources", 50),
            ("G4", GOVERNANCE, "财务资产管理", "Finance and assets", 180),
            ("G5", GOVERNANCE, "档案、证章管理", "Records and seals", 40),
            ("G6", GOVERNANCE, "党建工作", "Party building", 30),
            ("P1", PERFORMANCE, "公益项目", "Charitable projects", 150),
            ("P2", PERFORMANCE, "募捐与资助", "Fundraising and grants", 80),
            ("P3", PERFORMANCE, "信息公开", "Disclosure", 80),
            ("P4", PERFORMANCE, "社会影响", "Social impact", 60),
            ("S1", SOCIAL, "受益人评价", "Beneficiaries' evaluation", 60),
            ("S2", SOCIAL, "捐赠人评价", "Donors' evaluation", 30),
            ("S3", SOCIAL, "管理部门评价", "Authorities' evaluation", 50),
        ],
    ),
}

CUTOFFS = {"5A": 900, "4A": 800, "3A": 700, "2A": 600, "1A": 500}


def load(apps, schema_editor):
    IndicatorSet = apps.get_model("orgs_registry", "IndicatorSet")
    Indicator = apps.get_model("orgs_registry", "Indicator")
    for kind, (name, rows) in SETS.items():
        indicator_set, _created = IndicatorSet.objects.update_or_create(
            kind=kind,
            version="2026",
            defaults={"name": name, "cutoffs": CUTOFFS, "is_current": True},
        )
        for order, (code, (group, group_en), label, label_en, points) in enumerate(rows, 1):
            Indicator.objects.update_or_create(
                set=indicator_set,
                code=code,
                defaults={
                    "group": group,
                    "group_en": group_en,
                    "name": label,
                    "name_en": label_en,
                    "max_points": points,
                    "sort_order": order,
                },
            )


def unload(apps, schema_editor):
    apps.get_model("orgs_registry", "IndicatorSet").objects.filter(version="2026").delete()


class Migration(migrations.Migration):
    dependencies = [("orgs_registry", "0003_registry")]

    operations = [migrations.RunPython(load, unload)]
