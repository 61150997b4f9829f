"""Roles and the separation of duties, as every act of the register applies them.

A principal acts only in a role it holds; only the organization that owns a record acts on it;
nobody decides a case of their own organization or of one they declared a conflict with. Each
refusal is a Forbidden whose sentence names who was refused and why.
"""

from __future__ import annotations

import pytest

from clearance.errors import Forbidden
from clearance.register._duties import require_independent, require_member, require_role
from tests.rules_data import DEVELOPER, principal

REVIEWER = principal(
    "prn_rev", "Rita Reviewer", "reviewer", "appeal_panel", conflicts=("org_rival", "org_dev")
)


def test_a_principal_acts_in_a_role_it_holds() -> None:
    require_role(REVIEWER, "reviewer")
    require_role(REVIEWER, "appeal_panel")
    require_role(REVIEWER, "admin", "reviewer")
    require_role(DEVELOPER, "developer")


def test_a_principal_without_the_role_is_refused_and_told_which_roles_it_has() -> None:
    with pytest.raises(Forbidden) as caught:
        require_role(REVIEWER, "admin")
    assert caught.value.message == (
        "this needs the admin role; Rita Reviewer has reviewer, appeal_panel"
    )


def test_a_refusal_names_every_role_that_would_do() -> None:
    with pytest.raises(Forbidden) as caught:
        require_role(DEVELOPER, "reviewer", "admin", "appeal_panel")
    assert caught.value.message == (
        "this needs the reviewer or admin or appeal_panel role; Dana Dev has developer"
    )


def test_only_the_owning_organization_acts_on_its_record() -> None:
    require_member(DEVELOPER, "org_dev", "model frontier-1")
    with pytest.raises(Forbidden) as caught:
        require_member(DEVELOPER, "org_rival", "model rival-1")
    assert caught.value.message == "only the organization that owns model rival-1 may do this"


def test_nobody_decides_a_case_of_their_own_organization() -> None:
    with pytest.raises(Forbidden) as caught:
        require_independent(REVIEWER, "org_authority", "application app_1")
    assert caught.value.message == (
        "Rita Reviewer may not act on application app_1: it is their own organization's"
    )


@pytest.mark.parametrize("organization", ["org_rival", "org_dev"])
def test_nobody_decides_a_case_of_an_organization_they_declared_a_conflict_with(
    organization: str,
) -> None:
    with pytest.raises(Forbidden) as caught:
        require_independent(REVIEWER, organization, "application app_1")
    assert caught.value.message == (
        "Rita Reviewer declared a conflict of interest with the organization behind "
        "application app_1"
    )


def test_an_independent_reviewer_may_act() -> None:
    require_independent(REVIEWER, "org_bank", "application app_1")
