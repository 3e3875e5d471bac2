"""Fixtures of the supply tests: users per role, authenticated API clients, and a small site
(two units with locations, a customer unit, two items)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User
from rest_framework.test import APIClient

from supply.catalog.models import Item, Location, Unit, UnitOfIssue
from supply.catalog.reference import units_of_issue
from supply.identity.roles import ROLES
from supply.inventory import services
from supply.inventory.models import LedgerEntry

_names = itertools.count()


def ensure_reference_data() -> None:
    """What the data migrations load. Transactional tests flush the database afterwards, so a
    later test in the same worker must not rely on the migrations' rows still being there."""
    UnitOfIssue.objects.bulk_create(
        [UnitOfIssue(code=code, name=name) for code, name in units_of_issue()],
        ignore_conflicts=True,
    )
    for role in ROLES:
        Group.objects.get_or_create(name=role)


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    """make_user("clerk"), make_user("clerk", "issuer"), make_user(superuser=True), make_user()."""

    ensure_reference_data()

    def make(*roles: str, superuser: bool = False) -> User:
        user = User.objects.create_user(
            username=f"user{next(_names)}", is_superuser=superuser, is_staff=superuser
        )
        user.groups.set(Group.objects.filter(name__in=roles))
        assert user.groups.count() == len(roles), f"unknown role among {roles}"
        return user

    return make


@pytest.fixture
def client_for(make_user: Callable[..., User]) -> Callable[..., APIClient]:
    """client_for("issuer") -> an APIClient authenticated as a new user with that role."""

    def make(*roles: str, superuser: bool = False, user: User | None = None) -> APIClient:
        client = APIClient()
        client.force_authenticate(user or make_user(*roles, superuser=superuser))
        return client

    return make


@dataclass
class Site:
    unit: Unit
    other_unit: Unit
    customer: Unit
    receiving: Location
    bin_a: Location
    bin_b: Location
    foreign_bin: Location
    item: Item
    other_item: Item
    loader: User

    def receive(
        self, quantity: int, location: Location | None = None, item: Item | None = None
    ) -> LedgerEntry:
        """Stock through the service, so the ledger explains it."""
        return services.receipt(
            actor=services.Actor(self.loader),
            item=item or self.item,
            location=location or self.receiving,
            quantity=quantity,
            document_number="SETUP",
        )


@pytest.fixture
def site(db: None) -> Site:
    ensure_reference_data()
    unit = Unit.objects.create(uic="W1AAAA", name="Supply Company")
    other = Unit.objects.create(uic="W2BBBB", name="Other Company")
    customer = Unit.objects.create(uic="W3CCCC", name="Customer Battalion")
    ea = UnitOfIssue.objects.get(code="EA")
    return Site(
        unit=unit,
        other_unit=other,
        customer=customer,
        receiving=Location.objects.create(unit=unit, code="RECV", kind=Location.Kind.RECEIVING),
        bin_a=Location.objects.create(unit=unit, code="A-01"),
        bin_b=Location.objects.create(unit=unit, code="A-02"),
        foreign_bin=Location.objects.create(unit=other, code="Z-99"),
        item=Item.objects.create(
            nsn="6505013324567", common_name="Bandage", price=Decimal("3.45"), unit_of_issue=ea
        ),
        other_item=Item.objects.create(
            nsn="6135009857845", common_name="Battery", price=Decimal("1.10"), unit_of_issue=ea
        ),
        loader=User.objects.create_user(username=f"loader{next(_names)}"),
    )
