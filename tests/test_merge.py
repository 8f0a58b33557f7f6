"""The three-way merge of a ticket update, as a pure function."""

from __future__ import annotations

from ddsite.tech.merge import Clash, Fields, merge

BASE = Fields.of(1, 1, [5])


def test_nothing_changed_by_the_agent_sends_nothing():
    theirs = Fields.of(2, 3, [5, 7])
    result = merge(BASE, BASE, theirs)
    assert result.changes == {} and result.clashes == [] and result.shown == theirs


def test_no_overlap_sends_only_what_the_agent_changed():
    result = merge(BASE, Fields.of(2, 3, [5]), Fields.of(1, 1, [5, 7]))
    assert result.changes == {"status": "2", "priority": "3"} and result.clashes == []
    assert result.shown == Fields.of(2, 3, [5, 7])


def test_overlap_on_status_is_a_clash_with_both_values():
    result = merge(BASE, Fields.of(6, 3, [5]), Fields.of(2, 1, [5, 7]))
    assert result.clashes == [Clash("status", "1", "6", "2")]
    assert result.changes == {"priority": "3"}  # sent only once the clash is resolved
    assert result.shown == Fields.of(6, 3, [5, 7])  # the agent's choice shown, Tom kept


def test_both_changing_to_the_same_value_is_no_clash_and_no_change():
    result = merge(BASE, Fields.of(2, 1, [5]), Fields.of(2, 1, [5]))
    assert result.changes == {} and result.clashes == []


def test_both_changing_assignees_merges_additions_and_removals():
    # She adds Sam (2) and removes herself (5); meanwhile Tom (7) added himself.
    result = merge(BASE, Fields.of(1, 1, [2]), Fields.of(1, 1, [5, 7]))
    assert result.changes == {"assignees": ("7", "2")} and result.clashes == []


def test_ids_as_strings_or_numbers_are_the_same():
    assert merge(Fields.of("1", 1, ["5"]), Fields.of(1, "1", [5]), Fields.of(1, 1, [5])).changes == {}


def test_clearing_the_priority_is_a_change_to_none():
    result = merge(BASE, Fields.of(1, "", [5]), BASE)
    assert result.changes == {"priority": None}
