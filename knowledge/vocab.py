"""Controlled values shared by adapters, rules and actions."""

# Service categories: what kind of help a service is, across insurers.
CATEGORIES = {
    "green_channel": "就医绿通（门诊/住院/手术/检查安排）",
    "outpatient_booking": "门诊挂号/专家预约",
    "inpatient_arrangement": "住院/病房/手术安排",
    "escort": "陪诊",
    "inpatient_care": "住院陪护/护工",
    "home_nursing": "上门护理/术后家庭护理",
    "second_opinion": "第二诊疗意见/二诊",
    "mdt": "多学科会诊（MDT）",
    "remote_consult": "视频/电话/线上问诊、健康咨询",
    "advance_payment": "医疗垫付",
    "direct_billing": "直付/直赔",
    "drug_service": "药品服务/药惠购/送药",
    "rehab": "康复/随访",
    "transport": "出院接送/急救",
    "overseas": "海外就医",
    "checkup": "检查/体检/基因检测",
    "psychology": "心理咨询",
    "concierge": "健康管家/全程服务",
    "wellness": "健康促进/活力计划",
    "other": "其他",
}

BENEFICIARY = {"insured", "designated_family", "family_pool", "insured_and_family"}
WAITING_KIND = {"days", "same_as_policy", "none", "after_cooling_off"}
DIAGNOSIS_KIND = {"none", "suspected", "confirmed", "suspected_or_confirmed"}
USAGE_PERIOD = {"policy_year", "per_stay", "contract", "unlimited", "per_year_calendar", "per_disease"}
COVERAGE_SCOPE = {"list", "nationwide", "unspecified"}

# ServiceFact.attribute values in common use (others are allowed).
FACT_ATTRIBUTES = {
    "waiting_period", "cooling_off", "beneficiary", "diagnosis", "age", "usage_limit", "addon_required",
    "lead_time", "response_time", "how_to_apply", "documents", "fees", "exclusions", "coverage", "content",
    "trigger", "start_time", "cancellation",
}
