"""Public-format readers on the real data in ../shared/data: generic tables, exact ids, documented mappings."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from core.columns import EVENTS
from core.data.public import DEFAULT_FOLDERS, read_public
from core.data.schemas import SCHEMAS
from core.errors import WorkspaceError


_CACHE: dict[str, dict[str, pd.DataFrame]] = {}


def _read(name: str, shared_data: Path) -> dict[str, pd.DataFrame]:
    """Each data set is read once per test session (the readers are pure; the files are read-only)."""
    if name not in _CACHE:
        _CACHE[name] = read_public(name, shared_data / DEFAULT_FOLDERS[name])
    return _CACHE[name]


def _check_generic(tables: dict[str, pd.DataFrame]) -> None:
    for kind, frame in tables.items():
        if kind not in SCHEMAS:
            continue
        schema = SCHEMAS[kind]
        assert list(frame.columns[: len(schema.columns)]) == list(schema.columns), kind
        for column in schema.ids:
            present = frame[column].dropna()
            assert all(isinstance(v, str) and v == v.strip() and v for v in present.head(2000)), (kind, column)
        for column in schema.required:
            assert frame[column].notna().all(), (kind, column)
        for key in [schema.keys] if schema.keys else []:
            assert not frame.duplicated(list(key)).any(), (kind, key)
        if kind == "interactions":
            assert set(frame["event"].dropna().unique()) <= set(EVENTS)
            assert str(frame["weight"].dtype) == "float32"
            assert (frame["item_id"].notna() | frame["brand_id"].notna()).all()


@pytest.mark.slow  # reads each real data set (up to 44k rows of styles, 100k articles)
@pytest.mark.realdata
@pytest.mark.parametrize("name", sorted(DEFAULT_FOLDERS))
def test_every_public_reader_gives_generic_tables(shared_data: Path, name: str) -> None:
    tables = _read(name, shared_data)
    assert tables
    _check_generic(tables)


def test_fashion_product_images_mapping(shared_data: Path) -> None:
    cat = _read("fashion_product_images", shared_data)["catalogue"]
    assert len(cat) == 40_011
    assert cat["brand"].nunique() > 300
    row = cat.set_index("item_id").loc["1163"]
    assert (row["brand"], row["category"], row["category_group"],
            row["division"]) == ("Nike", "Tshirts", "Topwear", "Men")
    assert row["attr_base_colour"] == "Blue" and row["attr_occasion"] == "Sports"
    assert pd.isna(row["attr_pattern"])  # empty in the source = missing
    # partly filled attributes, as PROVENANCE.md says (pattern about 37%)
    assert 0.3 < cat["attr_pattern"].notna().mean() < 0.45


def test_hm_keeps_leading_zero_ids_and_links_transactions(shared_data: Path) -> None:
    tables = _read("hm", shared_data)
    cat, inter = tables["catalogue"], tables["interactions"]
    assert len(cat) == 105_542 and cat["item_id"].str.len().eq(10).all()
    assert cat["item_id"].str.startswith("0").all()
    assert inter["item_id"].isin(cat["item_id"]).all()
    assert inter["brand_id"].notna().all() and (inter["event"] == "order").all()
    assert inter["timestamp"].dt.strftime("%Y-%m-%d").eq("2018-09-20").all()
    assert cat["description"].notna().sum() >= 11_000
    assert len(tables["customers"]) == 10_000


def test_myntra_strips_colour_and_drops_trailing_column(shared_data: Path) -> None:
    cat = _read("myntra", shared_data)["catalogue"]
    assert len(cat) == 12_491 and cat["brand"].nunique() == 677
    assert not any(c.startswith("Unnamed") for c in cat.columns)
    assert not cat["attr_colour"].dropna().str.startswith(" ").any()
    assert cat["attr_colour"].isna().sum() == 894


def test_mango_outfits_reference_catalogue(shared_data: Path) -> None:
    tables = _read("mango", shared_data)
    cat, outfits = tables["catalogue"], tables["outfits"]
    assert len(cat) == 9_222 and outfits["outfit_id"].nunique() == 6_274
    assert outfits["item_id"].isin(cat["item_id"]).all()
    assert cat["category"].nunique() == 123


def test_polyvore_compatibility_rows(shared_data: Path) -> None:
    tables = _read("polyvore", shared_data)
    compat = tables["compatibility"]
    assert compat["question"].nunique() == 10_000
    labels = compat.drop_duplicates("question")["label"]
    assert labels.sum() == 5_000
    assert compat["item_id"].notna().mean() > 0.99
    assert tables["outfits"]["outfit_id"].nunique() == 5_000
    assert tables["catalogue"]["category"].notna().mean() > 0.7


def test_tmall_pairs_are_user_merchant_orders(shared_data: Path) -> None:
    tables = _read("tmall", shared_data)
    inter = tables["interactions"]
    assert len(inter) == 260_864 and inter["item_id"].isna().all()
    assert inter["user_id"].nunique() == 212_062 and inter["brand_id"].nunique() == 1_993
    assert (inter["weight"] == 8.0).all()
    assert abs(tables["repeat_buyers"]["label"].mean() - 0.061) < 0.005
    log = tables["log"]
    assert set(log["event"]) <= set(EVENTS) and log["timestamp"].notna().all()


def test_unknown_name_and_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="unknown public data set"):
        read_public("zalando", tmp_path)
    with pytest.raises(WorkspaceError, match="lacks"):
        read_public("myntra", tmp_path)
