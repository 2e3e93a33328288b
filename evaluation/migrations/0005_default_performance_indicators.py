"""The default indicator set of third-party performance evaluation: 决策 15, 过程 20, 产出 35,
效益 30 (output and benefit 65 ≥ 60), with the beneficiaries' satisfaction as a benefit
indicator fed by the survey (DESIGN 4.5; 财预〔2020〕10号 annex)."""

from decimal import Decimal

from django.db import migrations

INDICATORS = [
    ("decision", "D1", "项目立项与绩效目标", "Project rationale and performance targets", "8",
     "目标是否明确、可衡量，与需求调研相符。"),
    ("decision", "D2", "实施方案与资金预算", "Delivery plan and budget", "7",
     "方案是否可行，预算编制是否合理、与服务内容匹配。"),
    ("process", "P1", "项目管理与制度执行", "Project management and procedures", "8",
     "管理制度是否健全并执行，人员是否按合同到岗。"),
    ("process", "P2", "资金使用与财务管理", "Use of funds and bookkeeping", "7",
     "资金是否专款专用，支出是否合规、与预算相符。"),
    ("process", "P3", "档案资料与信息报送", "Records and reporting", "5",
     "服务记录、报告是否完整、及时。"),
    ("output", "O1", "服务数量完成率", "Volume of service delivered", "15",
     "服务人次、活动场次等是否达到合同约定。"),
    ("output", "O2", "服务质量达标情况", "Quality of service", "12",
     "服务是否符合合同约定的标准与规范。"),
    ("output", "O3", "服务时效", "Timeliness", "8", "服务是否按计划时间完成。"),
    ("benefit", "B1", "社会效益", "Social benefit", "12",
     "服务对象状况的改善、社区问题的解决程度。"),
    ("benefit", "B2", "可持续影响", "Lasting effect", "6",
     "服务成果能否持续，志愿者、社区骨干培育等。"),
    ("benefit", "B3", "服务对象满意度", "Beneficiary satisfaction", "12",
     "按满意度调查结果计分：分值 × 满意率。", True),
]


def create(apps, schema_editor):
    IndicatorSet = apps.get_model("evaluation", "PerformanceIndicatorSet")
    Indicator = apps.get_model("evaluation", "PerformanceIndicator")
    indicator_set, _ = IndicatorSet.objects.get_or_create(
        name="政府购买服务项目绩效评价指标体系",
        version="2026",
        defaults={
            "name_en": "Performance indicators for purchased services",
            "is_current": True,
        },
    )
    for order, row in enumerate(INDICATORS, start=1):
        group, code, name, name_en, points, guidance, *rest = row
        Indicator.objects.update_or_create(
            set=indicator_set,
            code=code,
            defaults={
                "group": group,
                "name": name,
                "name_en": name_en,
                "guidance": guidance,
                "max_points": Decimal(points),
                "is_satisfaction": bool(rest and rest[0]),
                "sort_order": order,
            },
        )


def remove(apps, schema_editor):
    IndicatorSet = apps.get_model("evaluation", "PerformanceIndicatorSet")
    IndicatorSet.objects.filter(version="2026", performanceevaluation__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("evaluation", "0004_performance_evaluation")]

    operations = [migrations.RunPython(create, remove)]
