"""Resolution: the overlap rule, "*", aliases and groups per vocabulary, unknown names, unused rules."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regionstyle.config import rules_settings
from maskrules import RuleSet, get_vocabulary, parse_rules, resolve
from maskrules.model import Rule, StyleRef

ADE = get_vocabulary("ade20k")
CITY = get_vocabulary("cityscapes")


def _regions(text: str, vocab=ADE) -> dict[str, frozenset[int]]:
    return {r.name: r.class_ids for r in resolve(parse_rules(text), vocab).regions}


def test_first_rule_in_file_wins_an_overlap():
    res = resolve(parse_rules('[map]\ntree = "oil"\n[[rule]]\nclasses = ["tree", "grass"]\nstyle = "pencil"\n'), ADE)
    assert {r.name: r.class_ids for r in res.regions} == {"tree": {5}, "tree+grass": {10}}
    assert res.unused_rules == () and res.claimed_ids == {5, 10}


def test_higher_priority_wins_and_ties_go_to_the_earlier_rule():
    text = ('[[rule]]\nclasses = ["tree", "grass"]\nstyle = "oil"\n[[rule]]\nclasses = "grass"\nstyle = "pencil"\n'
            'priority = 1\n[[rule]]\nclasses = "grass"\nstyle = "keep"\npriority = 1\n')
    res = resolve(parse_rules(text), ADE)
    assert [(r.rule_index, set(r.class_ids)) for r in res.regions] == [(0, {5}), (1, {10})]
    assert res.unused_rules == (2,)


def test_a_class_named_directly_beats_the_same_class_through_an_alias():
    # "building" (alias: building, house, skyscraper, hovel, tower) comes first, yet "house" keeps the house.
    assert _regions('[map]\nbuilding = "mosaic"\nhouse = "keep"\n') == {"building": {2, 49, 80, 85}, "house": {26}}
    # The same with sidewalk inside the "road" alias, and with a user group.
    assert _regions('[map]\nroad = "oil"\nsidewalk = "pencil"\n') == {"road": {7, 53}, "sidewalk": {12}}
    text = '[groups]\ngreen = ["tree", "grass"]\n[map]\ngreen = "pencil"\ntree = "oil"\n'
    assert _regions(text) == {"green": {10}, "tree": {5}}
    # ... but priority still comes first.
    text = '[map]\nhouse = "keep"\n[[rule]]\nclasses = "building"\nstyle = "mosaic"\npriority = 1\n'
    assert _regions(text) == {"building": {2, 26, 49, 80, 85}}


def test_star_takes_every_unclaimed_id_and_never_beats_a_named_class():
    text = '[[rule]]\nclasses = "*"\nstyle = "oil"\npriority = 99\n[map]\nsky = "keep"\n'
    res = resolve(parse_rules(text), ADE)
    sky, star = res.regions
    assert (sky.class_ids, star.rule_index, star.key_path, star.name) == ({3}, -1, "rule[1]", "default")
    assert star.class_ids == frozenset(range(151)) - {3} and res.claimed_ids == frozenset(range(151))
    assert res.unclaimed_ids == frozenset() and res.unused_rules == ()


def test_several_star_rules_priority_then_file_order():
    text = '[map]\n"*" = "oil"\n[[rule]]\nclasses = "*"\nstyle = "pencil"\n[[rule]]\nclasses = "*"\nstyle = "keep"\n'
    res = resolve(parse_rules(text), CITY)
    assert [r.style.builtin for r in res.regions] == ["oil"] and res.unused_rules == (1, 2)
    res = resolve(parse_rules(text + "priority = 1\n"), CITY)
    assert res.regions[0].keep and res.unused_rules == (0, 1)


def test_without_star_unclaimed_ids_stay_unclaimed():
    res = resolve(parse_rules('[map]\nsky = "oil"\n'), CITY)
    assert res.claimed_ids == {10} and res.unclaimed_ids == frozenset(range(19)) - {10}


def test_region_carries_rule_settings():
    text = ('[[rule]]\nclasses = ["Traffic Light", "traffic_sign"]\nstyle = "oil"\nstrength = 2\n'
            'content_weight = 3\ncolor = "match"\nfeather = 4\npriority = 5\nname = "signals"\n')
    (region,) = resolve(parse_rules(text, settings=rules_settings()), CITY).regions
    assert (region.name, region.class_names, region.key_path, region.rule_index) == (
        "signals", ("traffic light", "traffic sign"), "rule[1]", 0)
    assert (region.strength, region.priority) == (2.0, 5)
    assert dict(region.settings) == {"content_weight": 3.0, "color": "match", "feather": 4.0}
    assert region.style == StyleRef(kind="builtin", name="oil", builtin="oil") and not region.keep


def test_unknown_names_per_vocabulary_and_unused_rules():
    text = ('[groups]\nwet = ["water", "sky"]\n[map]\nwater = "oil"\nperson = "keep"\n'
            '[[rule]]\nclasses = "wet"\nstyle = "pencil"\n')
    res = resolve(parse_rules(text), CITY)
    assert res.unknown_names == (("map.water", "water"), ("groups.wet", "water"))
    assert res.unused_rules == (0,)
    assert {r.name: r.class_ids for r in res.regions} == {"person": {11, 12}, "wet": {10}}
    assert res.regions[0].keep
    res = resolve(parse_rules(text), ADE)
    assert res.unknown_names == () and res.unused_rules == ()
    assert res.regions[0].class_ids == {22, 27, 61, 110, 114, 129}


def test_user_group_replaces_builtin_alias_of_the_same_name():
    assert _regions('[groups]\ngreenery = ["tree"]\n[map]\ngreenery = "oil"\n') == {"greenery": {5}}


def test_same_rules_work_across_vocabularies():
    text = '[map]\nsky = "watercolor"\nbuilding = "mosaic"\nperson = "keep"\ngreenery = "pencil"\n"*" = "oil"\n'
    rs = parse_rules(text)
    ade150 = get_vocabulary("ade20k-150")
    by_vocab = {v.name: {r.name: r.class_ids for r in resolve(rs, v).regions} for v in (ADE, ade150, CITY)}
    assert by_vocab["ade20k"]["sky"] == {3} and by_vocab["ade20k-150"]["sky"] == {2}
    assert by_vocab["cityscapes"] == {"sky": {10}, "building": {2}, "person": {11, 12}, "greenery": {8},
                                      "default": frozenset(range(19)) - {10, 2, 11, 12, 8}}


def test_hand_made_ruleset_with_group_cycle_does_not_hang():
    rules = (Rule(classes=("a",), style=None, key_path="map.a", name="a"),)
    res = resolve(RuleSet(rules=rules, groups={"a": ("b",), "b": ("a", "sky")}), ADE)
    assert res.regions[0].class_ids == {3}


_NAMES = ["sky", "tree", "grass", "building", "house", "road", "sidewalk", "water", "sea", "person", "greenery", "*"]


@settings(deadline=None, max_examples=60)
@given(st.lists(st.tuples(st.lists(st.sampled_from(_NAMES), min_size=1, max_size=3, unique=True),
                          st.integers(-1, 1)), min_size=1, max_size=6))
def test_regions_partition_the_claimed_ids_and_each_id_goes_to_its_best_rule(specs):
    rules = [r for r in specs if "*" not in r[0] or r[0] == ["*"]]
    text = "".join(f'[[rule]]\nclasses = {classes!r}\nstyle = "oil"\npriority = {prio}\n'.replace("'", '"')
                   for classes, prio in rules)
    rs = parse_rules(text)
    res = resolve(rs, ADE)
    owners: dict[int, int] = {}
    for region in res.regions:
        for cid in region.class_ids:
            assert cid not in owners  # regions never overlap
            owners[cid] = region.rule_index
    assert set(owners) == res.claimed_ids
    has_default = any(r.is_default for r in rs.rules)
    # Independent check of the overlap rule, by brute force over the rules that select each id.
    for cid in range(len(ADE.classes)):
        contenders = []
        for i, rule in enumerate(rs.rules):
            if rule.is_default:
                continue
            direct = any(cid in ADE.exact_ids(n) for n in rule.classes)
            if direct or any(cid in ADE.ids_for(n) for n in rule.classes):
                contenders.append((-rule.priority, 0 if direct else 1, i))
        if contenders:
            assert owners[cid] == min(contenders)[2]
        else:
            assert owners.get(cid) == (-1 if has_default else None)
