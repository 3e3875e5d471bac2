"""The reference tables shipped with the package, read from `supply/catalog/data/`."""

from __future__ import annotations

import csv
import io
from importlib import resources


def units_of_issue() -> list[tuple[str, str]]:
    """The standard two-letter units of issue as (code, name) pairs."""
    text = resources.files("supply.catalog.data").joinpath("units_of_issue.csv").read_text("utf-8")
    return [(row["code"], row["name"]) for row in csv.DictReader(io.StringIO(text))]


def demo_catalog_path() -> resources.abc.Traversable:
    """The small demo catalog CSV (the `import-catalog` format)."""
    return resources.files("supply.catalog.data").joinpath("demo_catalog.csv")
