"""The platform's Kafka ACLs, as the registries make them: every backend may write only its own topics (and the
dead letters of what it consumes) and read what its consumers handle; a partner reads only partner-readable topics."""

from __future__ import annotations

from prasmes_contracts.registry import TOPICS, topic_named
from prasmes_devtools.kafka_access import (
    Grant,
    bindings,
    internal_topics,
    partner_grant,
    service_grants,
    service_principal,
)
from prasmes_runtime import registry
from prasmes_runtime.consumer import ConsumerSpec, Handlers

OWNER = {topic.name: topic.owner for topic in TOPICS}


def _grants() -> dict[str, Grant]:
    return {grant.principal: grant for grant in service_grants()}


def test_every_backend_has_a_grant_of_its_own() -> None:
    assert sorted(_grants()) == sorted(service_principal(name) for name in registry.BACKENDS)
    assert all(principal.startswith("svc-") for principal in _grants())


def test_no_grant_writes_a_topic_it_does_not_own() -> None:
    for name in registry.BACKENDS:
        grant = _grants()[service_principal(name)]
        own = {topic for topic, owner in OWNER.items() if owner == name}
        dead_letters_of_what_it_reads = {topic_named(topic).dead_letter for topic in grant.reads}
        assert set(grant.writes) == own | dead_letters_of_what_it_reads, name
        assert not {t for t in grant.writes if t in OWNER and OWNER[t] != name}, name


def test_each_topic_is_written_by_its_owner_alone() -> None:
    writers = {topic.name: [g.principal for g in service_grants() if topic.name in g.writes] for topic in TOPICS}
    assert writers == {topic.name: [service_principal(topic.owner)] for topic in TOPICS}


def test_a_service_reads_what_its_consumers_handle() -> None:
    grants = _grants()
    assert "calls.assignments" in grants["svc-notifications"].reads  # an internal topic a service consumes
    assert "accounts.assessments" in grants["svc-surveys"].reads
    assert "accounts.assessments" not in grants["svc-catalog"].reads
    assert all(topic in OWNER for grant in grants.values() for topic in grant.reads)


def test_the_groups_are_the_consumers_names_with_any_suffix_or_generation() -> None:
    grant = _grants()["svc-statistics"]
    assert grant.group_prefixes == ("statistics",)
    spec = ConsumerSpec("statistics", Handlers(), ["accounts.accounts"]).renamed("-test1")
    assert spec.group(4).startswith(grant.group_prefixes)
    assert all(g.group_prefixes == (g.principal.removeprefix("svc-"),) for g in service_grants())


def test_the_partner_grant_holds_no_internal_topic_and_writes_nothing() -> None:
    grant = partner_grant()
    internal = set(internal_topics())
    assert grant.writes == ()
    assert not internal & set(grant.reads)
    assert set(grant.reads) == {topic.name for topic in TOPICS if topic.partner_readable}
    assert grant.group_prefixes == ("partner.",)
    assert {"Read", "Describe"} == {b.operation for b in bindings(grant) if b.resource_type == "topic"}
    assert partner_grant("acme").group_prefixes == ("acme.",)


def test_internal_topics_are_the_not_partner_readable_ones_and_every_dead_letter_topic() -> None:
    internal = set(internal_topics())
    assert {"accounts.assessments", "calls.assignments", "surveys.invitations", "surveys.quality"} <= internal
    assert {topic.dead_letter for topic in TOPICS} <= internal
    assert not {topic.name for topic in TOPICS if topic.partner_readable} & internal


def test_bindings_give_writes_create_and_groups_by_prefix() -> None:
    grant = Grant("svc-x", writes=("x.things",), reads=("y.things",), group_prefixes=("x",))
    found = {(b.resource_type, b.name, b.pattern_type, b.operation) for b in bindings(grant)}
    assert found == {
        ("topic", "x.things", "literal", "Write"),
        ("topic", "x.things", "literal", "Describe"),
        ("topic", "x.things", "literal", "Create"),
        ("topic", "y.things", "literal", "Read"),
        ("topic", "y.things", "literal", "Describe"),
        ("group", "x", "prefixed", "Read"),
    }
