"""The police linkage drops exactly the registration model's rules it names."""

from thbmonitor.linkage.comparisons import blocking_rules
from thbmonitor.linkage.police import (
    DROPPED_RULES,
    EXTRA_RULES,
    NO_DOB_RULES,
    _prefilter_keys,
    _rule_sql,
    register_rules,
)


def test_register_rules_drop_each_named_rule_once() -> None:
    """Reference: comparisons.blocking_rules(0), the registration model's 16 rules; the three
    dropped (phonetic names with birth year, with day and month, swapped) made 2.0M of 11.4M
    pairs and 5 right links at 0.99 (bench_linkage_police.py, 113,016 persons x 10M events)."""
    full = [_rule_sql(r).strip("()") for r in blocking_rules(0)]
    kept = [_rule_sql(r).strip("()") for r in register_rules()]
    assert all(full.count(rule) == 1 for rule in DROPPED_RULES)
    extra = [rule.strip("()") for _, rule in (*EXTRA_RULES, *NO_DOB_RULES[1:])]
    assert kept[: len(full) - len(DROPPED_RULES)] == [r for r in full if r not in DROPPED_RULES]
    assert kept[len(full) - len(DROPPED_RULES) :] == extra
    assert not set(kept) & set(DROPPED_RULES)


def test_every_extra_rule_has_a_prefilter_key_of_the_same_columns() -> None:
    """An event the Splink rule would pair must survive the prefilter: each extra rule's
    prefilter key names the columns its SQL compares (birth_year for birth_year_approx)."""
    prefilter = [tuple(ev) for ev, _, _, _ in _prefilter_keys()]
    for keys, rule in (*EXTRA_RULES, *NO_DOB_RULES):
        events = tuple(k.split(">")[0] for k in keys)
        assert events in prefilter
        for key in keys:
            column = key.split(">")[-1]
            assert f"r.{column}" in rule.replace("birth_year_approx", "birth_year")
