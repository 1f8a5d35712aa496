"""Eligibility rules: pure decisions from a ServiceRule and the facts known so far.

    from rules import decide, ServiceRule, PolicyFacts, PersonFacts, CaseFacts
    decision = decide(rule, policy, person, case, today)

rules.loader builds a ServiceRule from the knowledge store (the only part with I/O).
"""
from rules.engine import ask_zh, decide, first_diagnosis_within_term
from rules.model import (ELIGIBLE, NEED_INFO, NOT_ELIGIBLE, AgeRule, BeneficiaryRule, CaseFacts, CoolingOffRule,
                         CoverageResult, Decision, DesignatedMember, DiagnosisRule, EntitlementRule, PersonFacts,
                         PolicyFacts, Reason, ServiceRule, Source, UsageRule, WaitingRule)

__all__ = [
    "decide", "ask_zh", "first_diagnosis_within_term", "ELIGIBLE", "NEED_INFO", "NOT_ELIGIBLE", "AgeRule",
    "BeneficiaryRule", "CaseFacts", "CoolingOffRule", "CoverageResult", "Decision", "DesignatedMember",
    "DiagnosisRule", "EntitlementRule", "PersonFacts", "PolicyFacts", "Reason", "ServiceRule", "Source",
    "UsageRule", "WaitingRule",
]
