"""Default weighted-scoring templates, one per service category (DESIGN 4.4).

Price 30 suits both methods (public tender ≥ 10; consultation 10–30). Objective criteria
carry their rules; subjective ones carry bands that say what each score range means.
"""

from django.db import migrations

PLAN_FOCUS = {
    "elderly_care": (
        "居家养老服务方案",
        "Home care service plan",
        "老人需求评估、服务内容与频次、助餐助洁探访的质量标准",
    ),
    "child_youth": (
        "儿童青少年服务方案",
        "Child and youth service plan",
        "需求调研、课程与活动设计、安全保护措施",
    ),
    "disability": (
        "助残服务方案",
        "Disability service plan",
        "个案评估、康复与就业支持、无障碍安排",
    ),
    "community_correction": (
        "社区矫正与安置帮教方案",
        "Community correction plan",
        "风险评估、个案矫正、帮教衔接与再犯预防",
    ),
    "community_governance": (
        "社区治理服务方案",
        "Community governance plan",
        "居民参与机制、议事协商、社区骨干培育",
    ),
    "volunteer_service": (
        "志愿服务方案",
        "Volunteer service plan",
        "志愿者招募培训、服务记录、激励与保障",
    ),
    "social_assistance": (
        "社会救助服务方案",
        "Social assistance plan",
        "困难群众排查、需求评估、资源链接与跟进",
    ),
    "property_management": (
        "老旧小区物业服务方案",
        "Property service plan",
        "保洁、秩序维护、设施巡检与居民满意度",
    ),
    "culture_sports": (
        "文体服务方案",
        "Culture and sports plan",
        "活动内容与频次、群众参与、场地与安全",
    ),
    "mental_health": (
        "心理健康服务方案",
        "Mental health service plan",
        "筛查评估、咨询与危机干预、转介机制",
    ),
}

GRADE_RULE = {"type": "grade", "fractions": {"5A": "1", "4A": "0.8", "3A": "0.6"}}
WORKERS_RULE = {"type": "social_workers", "per_person": "2", "cap": "6"}
PERFORMANCE_RULE = {
    "type": "past_performance",
    "years": 3,
    "bands": [
        {"min": "90", "fraction": "1"},
        {"min": "80", "fraction": "0.8"},
        {"min": "60", "fraction": "0.6"},
    ],
    "none": "0.5",
}


def _bands(points, good, fair, poor):
    top, mid = points * 4 // 5, points // 2
    return [
        {"low": "0", "high": f"{mid - 0.01:.2f}", "text": poor},
        {"low": str(mid), "high": f"{top - 0.01:.2f}", "text": fair},
        {"low": str(top), "high": str(points), "text": good},
    ]


def add_templates(apps, schema_editor):
    ServiceCategory = apps.get_model("orgs_registry", "ServiceCategory")
    SchemeTemplate = apps.get_model("evaluation", "SchemeTemplate")
    Criterion = apps.get_model("evaluation", "SchemeTemplateCriterion")
    for category in ServiceCategory.objects.all():
        plan_zh, plan_en, focus = PLAN_FOCUS.get(
            category.code, ("服务方案", "Service plan", "需求分析、服务内容与质量标准")
        )
        template, created = SchemeTemplate.objects.get_or_create(
            category=category,
            name=f"{category.name_zh}综合评分模板",
            defaults={
                "name_en": f"{category.name_en}: weighted scoring template",
                "description": "价格30分（低价优先）；客观分20分由系统按登记信息计算；主观分50分由评审委员会独立打分。",
            },
        )
        if not created:
            continue
        rows = [
            (
                "price",
                "价格",
                "Price",
                "price",
                30,
                "评标基准价为通过资格和符合性审查的最低报价；价格分 = 基准价 / 报价 × 30。",
                [],
                {},
            ),
            (
                "grade",
                "社会组织等级",
                "Organization grade",
                "objective",
                8,
                "5A 得满分，4A 得80%，3A 得60%，其余不得分。",
                [],
                GRADE_RULE,
            ),
            (
                "social_workers",
                "持证社会工作者",
                "Certified social workers",
                "objective",
                6,
                "人员配置中每名持证社工2分，最高6分。",
                [],
                WORKERS_RULE,
            ),
            (
                "past_performance",
                "以往绩效",
                "Past performance",
                "objective",
                6,
                "近3年终期绩效评价平均分：≥90满分，≥80得80%，≥60得60%；无记录得50%。",
                [],
                PERFORMANCE_RULE,
            ),
            (
                "plan",
                plan_zh,
                plan_en,
                "subjective",
                25,
                focus,
                _bands(
                    25,
                    "方案完整具体，目标可衡量，措施针对性强",
                    "方案基本完整，部分措施不够具体",
                    "方案缺项较多或与需求不符",
                ),
                {},
            ),
            (
                "team",
                "团队配置",
                "Team",
                "subjective",
                15,
                "人员数量、专业资质与分工是否满足服务需要。",
                _bands(
                    15,
                    "人员充足、资质匹配、分工清晰",
                    "人员基本满足，个别岗位资质不足",
                    "人员明显不足或资质不符",
                ),
                {},
            ),
            (
                "management",
                "项目管理与质量控制",
                "Management and quality control",
                "subjective",
                10,
                "进度安排、督导评估、风险与投诉处理、经费预算合理性。",
                _bands(
                    10,
                    "制度健全、预算合理、风险预案完善",
                    "制度基本健全，预算或预案有欠缺",
                    "缺少管理制度或预算明显不合理",
                ),
                {},
            ),
        ]
        Criterion.objects.bulk_create(
            Criterion(
                template=template,
                code=code,
                name=name,
                name_en=name_en,
                kind=kind,
                points=points,
                description=description,
                bands=bands,
                rule=rule,
                sort_order=index,
            )
            for index, (code, name, name_en, kind, points, description, bands, rule) in enumerate(
                rows
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("evaluation", "0002_evaluation_award"),
        ("orgs_registry", "0002_service_categories"),
    ]

    operations = [migrations.RunPython(add_templates, migrations.RunPython.noop)]
