"""The police linkage drops exactly the registration model's rules it names."""

from thbmonitor.linkage.comparisons import blocking_rules
from thbmonitor.linkage.police import DROPPED_RULES, _rule_sql, register_rules


def test_register_rules_drop_each_named_rule_once() -> None:
    """Reference: comparisons.blocking_rules(0), the registration model's 17 rules; the three
    dropped (phonetic names with birth year, with day and month, swapped) made 2.0M of 11.4M
    pairs and 5 right links at 0.99 (bench_linkage_police.py, 113,016 persons x 10M events)."""
    full = [_rule_sql(r).strip("()") for r in blocking_rules(0)]
    kept = [_rule_sql(r).strip("()") for r in register_rules()]
    assert all(full.count(rule) == 1 for rule in DROPPED_RULES)
    assert len(kept) == len(full) - len(DROPPED_RULES)
    assert not set(kept) & set(DROPPED_RULES)
