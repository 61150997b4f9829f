"""The register's parties: organizations, principals, model configurations and their keys.

The acts are pure functions (issue 16): each test builds the records in memory and checks the
refusal whole (its type and its sentence) or the Change whole. Only an administrator adds
organizations and principals (or the set-up, before there is one); the authority's roles stay
with the authority and model development with developers; a developer registers models only for
its own organization, on known channels, with a plain http(s) upstream and a sibling of the same
developer; a principal manages its own keys, an administrator anyone's.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from clearance.errors import Forbidden, InvalidInput
from clearance.register._events import Change, Event
from clearance.register._parties import (
    MAX_GRACE_SECONDS,
    NAME_SALT_BYTES,
    create_organization,
    create_principal,
    issue_key,
    name_commitment,
    register_model,
    revoke_keys,
)
from clearance.register._records import Principal
from tests import rules_data
from tests.framework_data import load, small
from tests.rules_data import ADMIN, DEVELOPER, NOW, model

FRAMEWORK = load(small())  # one sector: military
SALT = bytes(range(32))
REVIEWER = rules_data.principal("prn_rev", "Rita Reviewer", "reviewer", "appeal_panel")
AUTHORITY = rules_data.organization("org_authority", "Authority", "authority", "GB")
DEV_ORG = rules_data.organization("org_dev", "Dev Lab", "developer", "US")
PARTNER_ORG = rules_data.organization("org_bank", "Bank", "partner", "US")


def principal(**kw: Any) -> Principal:
    args: dict[str, Any] = {
        "id": "prn_new",
        "organization_id": "org_bank",
        "name": "Nora New",
        "roles": ("partner",),
        "created_at": NOW,
    }
    args.update(kw)
    return Principal(**args)


# --- the commitment published in place of a withheld name ---------------------------------


def test_a_name_commitment_is_sha256_of_the_salt_then_the_names_utf8_bytes() -> None:
    name = "Laboratoire Été"
    expected = hashlib.sha256(SALT + name.encode("utf-8")).hexdigest()
    assert name_commitment(name, SALT) == expected
    assert name_commitment(name, SALT) != hashlib.sha256(name.encode() + SALT).hexdigest()
    assert name_commitment("Other", SALT) != expected
    assert name_commitment(name, bytes(32)) != expected


def test_a_name_salt_is_exactly_32_bytes() -> None:
    assert NAME_SALT_BYTES == 32
    for length in (0, 31, 33):
        with pytest.raises(ValueError) as caught:
            name_commitment("Lab", bytes(length))
        assert str(caught.value) == "a name salt is 32 bytes"


# --- organizations ---------------------------------------------------------------------------


def test_only_an_administrator_adds_an_organization() -> None:
    with pytest.raises(Forbidden) as caught:
        create_organization(DEV_ORG, REVIEWER, FRAMEWORK)
    assert caught.value.message == (
        "this needs the admin role; Rita Reviewer has reviewer, appeal_panel"
    )


def test_an_administrator_adds_an_organization_and_the_log_names_them() -> None:
    change = create_organization(DEV_ORG, ADMIN, FRAMEWORK)
    assert change == Change(
        (DEV_ORG,),
        (
            Event(
                kind="organization.created",
                subject="org_dev",
                actor="prn_admin",
                at=NOW,
                data={"kind": "developer", "jurisdiction": "US"},
            ),
        ),
    )


def test_the_set_up_adds_the_authority_with_no_administrator_yet() -> None:
    change = create_organization(AUTHORITY, None)
    assert change.records == (AUTHORITY,)
    assert change.events == (
        Event(
            kind="organization.created",
            subject="org_authority",
            actor="setup",
            at=NOW,
            data={"kind": "authority", "jurisdiction": "GB"},
        ),
    )


def test_a_withheld_name_needs_its_commitment() -> None:
    withheld = DEV_ORG.model_copy(update={"name_public": False})
    with pytest.raises(InvalidInput) as caught:
        create_organization(withheld, ADMIN, FRAMEWORK)
    assert caught.value.message == "name_public: a withheld name needs its commitment"
    committed = withheld.model_copy(update={"name_commitment": name_commitment("Dev Lab", SALT)})
    assert create_organization(committed, ADMIN, FRAMEWORK).records == (committed,)


def test_a_public_name_needs_no_commitment() -> None:
    assert create_organization(DEV_ORG, ADMIN).records == (DEV_ORG,)


def test_a_sector_is_checked_against_a_published_framework() -> None:
    military = PARTNER_ORG.model_copy(update={"sector": "military"})
    with pytest.raises(InvalidInput) as caught:
        create_organization(military, ADMIN, None)
    assert caught.value.message == (
        "sector: no framework is published yet, so no sector can be checked; publish one "
        "first, or leave sector empty"
    )
    assert create_organization(military, ADMIN, FRAMEWORK).records == (military,)


def test_a_sector_the_framework_does_not_know_is_refused() -> None:
    unknown = PARTNER_ORG.model_copy(update={"sector": "finance"})
    with pytest.raises(InvalidInput) as caught:
        create_organization(unknown, ADMIN, FRAMEWORK)
    assert caught.value.message == "sector: unknown sector 'finance'; valid: military"


# --- principals ------------------------------------------------------------------------------


def test_only_an_administrator_adds_a_principal() -> None:
    with pytest.raises(Forbidden) as caught:
        create_principal(principal(), PARTNER_ORG, DEVELOPER)
    assert caught.value.message == "this needs the admin role; Dana Dev has developer"


def test_an_administrator_adds_a_principal_and_the_log_names_its_roles_and_channel() -> None:
    new = principal(roles=("partner", "reporter"), channel="app")
    change = create_principal(new, PARTNER_ORG, ADMIN)
    assert change == Change(
        (new,),
        (
            Event(
                kind="principal.created",
                subject="prn_new",
                actor="prn_admin",
                at=NOW,
                data={
                    "organization": "org_bank",
                    "roles": ["partner", "reporter"],
                    "channel": "app",
                },
            ),
        ),
    )


def test_the_set_up_adds_the_first_administrator() -> None:
    change = create_principal(ADMIN, AUTHORITY, None)
    assert change.records == (ADMIN,)
    assert [(e.actor, e.data["roles"]) for e in change.events] == [("setup", ["admin"])]


@pytest.mark.parametrize("role", ["admin", "reviewer", "appeal_panel"])
def test_the_authoritys_roles_belong_to_principals_of_the_authority(role: str) -> None:
    for organization in (DEV_ORG, PARTNER_ORG):
        with pytest.raises(InvalidInput) as caught:
            create_principal(
                principal(organization_id=organization.id, roles=("reporter", role)),
                organization,
                ADMIN,
            )
        assert caught.value.message == (
            "roles: admin, reviewer and appeal_panel belong to principals of the authority"
        )


def test_the_authority_holds_its_own_roles() -> None:
    staff = principal(organization_id="org_authority", roles=("admin", "reviewer", "appeal_panel"))
    assert create_principal(staff, AUTHORITY, ADMIN).records == (staff,)


def test_the_authority_does_not_develop_models() -> None:
    with pytest.raises(InvalidInput) as caught:
        create_principal(
            principal(organization_id="org_authority", roles=("reviewer", "developer")),
            AUTHORITY,
            ADMIN,
        )
    assert caught.value.message == "roles: the authority does not develop models in this register"


def test_a_developer_organization_has_developers() -> None:
    assert create_principal(DEVELOPER, DEV_ORG, ADMIN).records == (DEVELOPER,)


# --- models ----------------------------------------------------------------------------------


def test_a_developer_registers_a_model_and_the_log_names_it_in_full() -> None:
    registered = model(
        variant="restricted", channels=("api", "app"), upstream_url="http://10.0.0.5:8000/v1"
    )
    change = register_model(registered, DEVELOPER, NOW)
    assert change == Change(
        (registered,),
        (
            Event(
                kind="model.registered",
                subject="mdl_1",
                model_id="mdl_1",
                actor="prn_dev",
                at=NOW,
                data={
                    "name": "frontier-1",
                    "version": "1.0",
                    "variant": "restricted",
                    "weights_digest": "a" * 64,
                    "channels": ["api", "app"],
                    "sibling": None,
                },
            ),
        ),
    )


def test_only_a_developer_registers_a_model() -> None:
    with pytest.raises(Forbidden) as caught:
        register_model(model(organization_id="org_authority"), ADMIN, NOW)
    assert caught.value.message == "this needs the developer role; Ada Admin has admin"


def test_a_developer_registers_models_only_for_its_own_organization() -> None:
    with pytest.raises(Forbidden) as caught:
        register_model(model(organization_id="org_other"), DEVELOPER, NOW)
    assert caught.value.message == "only the organization that owns model frontier-1 may do this"


def test_a_model_is_offered_only_on_known_channels() -> None:
    with pytest.raises(InvalidInput) as caught:
        register_model(model(channels=("api", "sms", "email")), DEVELOPER, NOW)
    assert caught.value.message == "channels: unknown channel 'email', 'sms'; valid: api, app"


@pytest.mark.parametrize(
    "url", ["http://10.0.0.5:8000/v1/", "https://models.example/", " http://10.0.0.5/v1"]
)
def test_an_upstream_url_with_a_trailing_slash_or_spaces_is_refused(url: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        register_model(model(upstream_url=url), DEVELOPER, NOW)
    assert caught.value.message == f"upstream_url: {url!r} has a trailing slash or spaces"


def test_the_refusal_of_an_upstream_url_quotes_at_most_80_characters() -> None:
    url = "http://10.0.0.5/" + "v" * 100 + "/"
    with pytest.raises(InvalidInput) as caught:
        register_model(model(upstream_url=url), DEVELOPER, NOW)
    assert caught.value.message == f"upstream_url: {url[:80]!r} has a trailing slash or spaces"


@pytest.mark.parametrize(
    "url",
    ["ftp://10.0.0.5/v1", "http://user:pw@10.0.0.5/v1", "http://10.0.0.5/v1?key=1", "10.0.0.5"],
)
def test_an_upstream_url_must_be_a_plain_http_base_url(url: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        register_model(model(upstream_url=url), DEVELOPER, NOW)
    assert caught.value.message.startswith(f"upstream_url: {url!r} is not an http(s) base URL")


@pytest.mark.parametrize("url", ["http://10.0.0.5:8000/v1", "https://models.example"])
def test_a_plain_upstream_url_is_kept_as_given(url: str) -> None:
    registered = model(upstream_url=url)
    assert register_model(registered, DEVELOPER, NOW).records == (registered,)


def test_a_variant_names_its_sibling_with_the_siblings_record() -> None:
    public = model(id="mdl_0", name="frontier-1-public")
    variant = model(sibling="mdl_0", variant="restricted")
    change = register_model(variant, DEVELOPER, NOW, public)
    assert change.records == (variant,)
    assert change.events[0].data["sibling"] == "mdl_0"
    for given in (None, model(id="mdl_9", name="other"), variant):
        with pytest.raises(ValueError) as caught:
            register_model(variant, DEVELOPER, NOW, given)
        assert str(caught.value) == "the sibling record must be given with the sibling's id"


def test_a_model_cannot_be_its_own_sibling() -> None:
    itself = model(sibling="mdl_1")
    with pytest.raises(ValueError) as caught:
        register_model(itself, DEVELOPER, NOW, itself)
    assert str(caught.value) == "the sibling record must be given with the sibling's id"


def test_a_variants_sibling_is_a_model_of_the_same_developer() -> None:
    theirs = model(id="mdl_0", organization_id="org_other", name="rival-1")
    for variant in (model(sibling="mdl_0"), model()):
        with pytest.raises(InvalidInput) as caught:
            register_model(variant, DEVELOPER, NOW, theirs)
        assert caught.value.message == (
            "sibling: rival-1 belongs to another organization; a variant's sibling is a model "
            "of the same developer"
        )


# --- keys ------------------------------------------------------------------------------------


def test_a_principal_revokes_its_own_keys() -> None:
    change = revoke_keys(DEVELOPER, DEVELOPER, NOW, 3)
    assert change == Change(
        (),
        (
            Event(
                kind="principal.keys_revoked",
                subject="prn_dev",
                actor="prn_dev",
                at=NOW,
                data={"keys": 3},
            ),
        ),
    )


def test_an_administrator_revokes_anyones_keys_and_nobody_else_does() -> None:
    assert revoke_keys(DEVELOPER, ADMIN, NOW, 1).events[0].actor == "prn_admin"
    with pytest.raises(Forbidden) as caught:
        revoke_keys(DEVELOPER, REVIEWER, NOW, 1)
    assert caught.value.message == (
        "this needs the admin role; Rita Reviewer has reviewer, appeal_panel"
    )


def test_a_principal_gets_a_new_key_with_a_grace_period_for_the_old_ones() -> None:
    change = issue_key(DEVELOPER, DEVELOPER, NOW, 3600)
    assert change == Change(
        (),
        (
            Event(
                kind="principal.key_issued",
                subject="prn_dev",
                actor="prn_dev",
                at=NOW,
                data={"grace_seconds": 3600},
            ),
        ),
    )


def test_only_the_principal_or_an_administrator_issues_its_keys() -> None:
    assert issue_key(DEVELOPER, ADMIN, NOW, 0).events[0].actor == "prn_admin"
    with pytest.raises(Forbidden) as caught:
        issue_key(ADMIN, DEVELOPER, NOW, 0)
    assert caught.value.message == "this needs the admin role; Dana Dev has developer"


def test_a_rotated_key_stays_valid_at_most_30_days() -> None:
    assert MAX_GRACE_SECONDS == 30 * 24 * 3600
    for seconds in (0, MAX_GRACE_SECONDS):
        assert issue_key(DEVELOPER, DEVELOPER, NOW, seconds).events[0].data == {
            "grace_seconds": seconds
        }
    for seconds in (-1, MAX_GRACE_SECONDS + 1):
        with pytest.raises(InvalidInput) as caught:
            issue_key(DEVELOPER, DEVELOPER, NOW, seconds)
        assert caught.value.message == "grace_seconds: between 0 and 2592000"
