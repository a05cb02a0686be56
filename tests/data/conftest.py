"""Fixtures of the data tests: the committed corpus and a workspace with some tables."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
MALFORMED = HERE / "malformed"
GOOD = HERE / "good"


def _manifest(folder: Path) -> list[dict[str, str]]:
    with open(folder / "MANIFEST.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


BAD_CASES = _manifest(MALFORMED)
GOOD_CASES = _manifest(GOOD)


@pytest.fixture
def seeded_workspace(atelier_home: Path):
    """A workspace 'shop' with a catalogue, interactions, outfits and customers (and its database)."""
    from core.services.imports import ImportFile, import_files

    result = import_files("shop", [
        ImportFile("catalogue", b"item_id,name,brand,price\n00123,Shirt,B1,10\nNA,Dress,B2,20\n", "catalogue.csv"),
        ImportFile("interactions", b"user_id,item_id,event\nu1,00123,view\nu2,NA,order\n", "interactions.csv"),
        ImportFile("outfits", b"outfit_id,item_id\no1,00123\no1,NA\n", "outfits.csv"),
        ImportFile("customers", b"user_id,unsubscribed\nu1,true\nu2,false\n", "customers.csv"),
    ])
    from core.data.workspace import Workspace

    return Workspace.open(result.path)
