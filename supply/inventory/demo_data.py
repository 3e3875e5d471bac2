"""Demo data for `make run` and first looks: the demo catalog, two units, a receiving area and bins,
allowances, and stock brought in through the services (RECEIPT then STOW), so the ledger explains
every quantity. Loading twice changes nothing the second time."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from django.contrib.auth.models import User
from django.db import transaction

from supply.catalog.importer import import_catalog
from supply.catalog.models import Allowance, Item, Location, Unit
from supply.catalog.reference import demo_catalog_path
from supply.inventory import services
from supply.inventory.models import LedgerEntry

DEMO_UNIT = ("W1A2B3", "1st Demo Support Company")
CUSTOMER_UNIT = ("W4D5E6", "2nd Demo Infantry Battalion")
RECEIVING = "RECV"
BINS = ("A-01", "A-02", "B-01")
LOADER = "demo-loader"

# (NSN, quantity received, bin it is stowed to, how many of those stowed, allowance, reorder point)
_STOCK = (
    ("6505013324567", 120, "A-01", 100, 200, 50),
    ("6510009268882", 40, "A-01", 40, 60, 20),
    ("8415015381234", 30, "A-02", 20, 50, 10),
    ("6135009857845", 300, "B-01", 300, 400, 100),
    ("6135013513232", 12, "B-01", 12, 40, 15),
    ("8970013213234", 8, "A-02", 8, 30, 10),
    ("6545009220000", 25, "A-02", 25, 30, 5),
)


@dataclass(frozen=True)
class DemoResult:
    items: int
    ledger_rows: int


def load_demo_stock() -> DemoResult:
    """Load the demo catalog and stock once; later calls only report what is there."""
    catalog = import_catalog_from_package()
    with transaction.atomic():
        unit, _ = Unit.objects.get_or_create(uic=DEMO_UNIT[0], defaults={"name": DEMO_UNIT[1]})
        Unit.objects.get_or_create(uic=CUSTOMER_UNIT[0], defaults={"name": CUSTOMER_UNIT[1]})
        receiving, _ = Location.objects.get_or_create(
            unit=unit,
            code=RECEIVING,
            defaults={"kind": Location.Kind.RECEIVING, "description": "Receiving area"},
        )
        bins = {
            code: Location.objects.get_or_create(
                unit=unit, code=code, defaults={"kind": Location.Kind.BIN}
            )[0]
            for code in BINS
        }
        already = LedgerEntry.objects.filter(document_number__startswith="DEMO-").exists()
        loader = _loader()
        actor = services.Actor(user=loader)
        for n, (nsn, received, bin_code, stowed, allowance, reorder) in enumerate(_STOCK, 1):
            item = Item.objects.get(nsn=nsn)
            Allowance.objects.get_or_create(
                unit=unit, item=item, defaults={"allowance": allowance, "reorder_point": reorder}
            )
            if already:
                continue
            services.receipt(
                actor=actor,
                item=item,
                location=receiving,
                quantity=received,
                document_number=f"DEMO-R{n:03d}",
            )
            services.stow(
                actor=actor,
                item=item,
                from_location=receiving,
                to_location=bins[bin_code],
                quantity=stowed,
                document_number=f"DEMO-S{n:03d}",
            )
    return DemoResult(
        items=catalog,
        ledger_rows=LedgerEntry.objects.filter(document_number__startswith="DEMO-").count(),
    )


def import_catalog_from_package() -> int:
    """Import the shipped demo catalog CSV; returns how many items it holds."""
    with resources.as_file(demo_catalog_path()) as path:
        result = import_catalog(path)
    return result.created + result.updated


def _loader() -> User:
    # The ledger records who; demo stock is recorded as this account, which cannot log in.
    user, created = User.objects.get_or_create(username=LOADER)
    if created:
        user.set_unusable_password()
        user.is_active = False
        user.save()
    return user
