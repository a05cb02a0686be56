"""Readers for the public fashion data sets in ../shared/data: each maps its source format to the generic tables."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from core.data.schemas import TEXT, conform
from core.errors import AtelierError, Problem, ValidationError, WorkspaceError

Tables = dict[str, pd.DataFrame]


def _csv(path: Path, need: tuple[str, ...] = (), **kwargs: Any) -> pd.DataFrame:
    """Source CSVs keep their exact text: ids like 0108775015 must not become numbers.

    need: the columns the reader uses; a copy without them is refused naming each (not a KeyError).
    """
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8", **kwargs)
    return _require(frame, path, need)


def _require(frame: pd.DataFrame, path: Path, need: tuple[str, ...]) -> pd.DataFrame:
    missing = [c for c in need if c not in frame.columns]
    if missing:
        raise ValidationError([Problem(path.name, None, c, "missing column in the public data set file (a changed or "
                                       "different file? use the original download)") for c in missing])
    return frame


def _need(folder: Path, *names: str) -> list[Path]:
    folder = Path(folder)
    paths = [folder / n for n in names]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise WorkspaceError(f"{folder} lacks {', '.join(missing)}: point at the folder that holds the data set's "
                             "files")
    return paths


def _blank_to_na(series: pd.Series, missing: tuple[str, ...] = ()) -> pd.Series:
    """Stripped text; empty (and the source's own missing markers) -> NA."""
    text = series.astype(TEXT).str.strip()
    return text.where(~text.isin(("",) + missing), np.nan)


# ---------------------------------------------------------------------------------------------- Fashion Product Images
FPI_FILE = "styles_flat.csv.gz"
# Source columns that become attributes (besides the source's own attr_* columns).
FPI_ATTRIBUTES = {"baseColour": "attr_base_colour", "season": "attr_season", "usage": "attr_usage",
                  "masterCategory": "attr_master_category", "ageGroup": "attr_age_group"}


def read_fashion_product_images(folder: str | Path) -> Tables:
    """Fashion Product Images (Myntra styles, flattened): catalogue only.

    brandName -> brand, articleType -> category, subCategory -> category_group, gender -> division,
    productDisplayName -> name, description (+ style_note) -> description, baseColour/season/usage/
    masterCategory/ageGroup and every source attr_* -> attr_*. The source writes "NA" for missing
    colours; empty and "NA" are missing here.
    """
    (path,) = _need(Path(folder), FPI_FILE)
    raw = _csv(path, ("id", "productDisplayName", "description", "style_note", "brandName", "articleType",
                      "subCategory", "gender", "price", "defaultImageURL", *FPI_ATTRIBUTES), compression="gzip")
    description = _blank_to_na(raw["description"])
    note = _blank_to_na(raw["style_note"])
    both = description.fillna("") + np.where(description.notna() & note.notna(), " ", "") + note.fillna("")
    frame = pd.DataFrame({
        "item_id": raw["id"].str.strip(),
        "name": _blank_to_na(raw["productDisplayName"]),
        "description": both.where(both != "", None),
        "brand": _blank_to_na(raw["brandName"]),
        "category": _blank_to_na(raw["articleType"]),
        "category_group": _blank_to_na(raw["subCategory"]),
        "division": _blank_to_na(raw["gender"]),
        "price": raw["price"],
        "image_url": _blank_to_na(raw["defaultImageURL"]),
    })
    for source, column in FPI_ATTRIBUTES.items():
        frame[column] = _blank_to_na(raw[source], ("NA",))
    for column in [c for c in raw.columns if c.startswith("attr_")]:
        frame[column] = _blank_to_na(raw[column], ("NA",))
    return {"catalogue": conform("catalogue", frame)}


# ---------------------------------------------------------------------------------------------- H&M
HM_ARTICLES_FULL = "articles_all_105k_nodesc.parquet"
HM_ARTICLES_DESC = ("articles_sample11800_with_desc.csv", "sample10k_articles.csv")
HM_TRANSACTIONS = "sample10k_transactions_train.csv"
HM_CUSTOMERS = "sample10k_customers.csv"
HM_ATTRIBUTES = {
    "graphical_appearance_name": "attr_graphical_appearance", "colour_group_name": "attr_colour_group",
    "perceived_colour_value_name": "attr_perceived_colour_value",
    "perceived_colour_master_name": "attr_perceived_colour_master", "department_name": "attr_department",
    "index_name": "attr_index", "garment_group_name": "attr_garment_group",
}
HM_ARTICLE_COLUMNS = ("article_id", "prod_name", "section_name", "product_type_name", "product_group_name",
                      "index_group_name", *HM_ATTRIBUTES)


def _hm_article_id(values: pd.Series) -> pd.Series:
    # H&M's canonical article id is 10 digits with a leading zero; some copies store it as an integer.
    return values.astype(str).str.strip().str.zfill(10)


def read_hm(folder: str | Path) -> Tables:
    """H&M Personalized Fashion Recommendations: catalogue, interactions (orders), customers.

    H&M is one brand: its `section_name` (e.g. "Divided Collection", "Womens Everyday Basics") stands in
    for brand. product_type_name -> category, product_group_name -> category_group, index_group_name ->
    division, prod_name -> name, detail_desc -> description (where a copy with it exists), colour,
    pattern, department, index and garment group -> attr_*. Catalogue price = median paid price in the
    transactions (NA for articles never bought there). Transactions -> event "order", timestamp t_dat.
    Customers: fashion_news_frequency "NONE" (or empty) -> unsubscribed.
    """
    folder = Path(folder)
    if (folder / HM_ARTICLES_FULL).is_file():
        articles = _require(pd.read_parquet(folder / HM_ARTICLES_FULL), folder / HM_ARTICLES_FULL, HM_ARTICLE_COLUMNS)
        articles = articles.astype({c: str for c in articles.columns if c in ("article_id",)})
    else:
        candidates = [folder / n for n in HM_ARTICLES_DESC if (folder / n).is_file()]
        if not candidates:
            raise WorkspaceError(f"{folder} has no H&M articles file ({HM_ARTICLES_FULL} or articles.csv)")
        articles = _csv(candidates[0], HM_ARTICLE_COLUMNS)
    articles = articles.copy()
    articles["article_id"] = _hm_article_id(articles["article_id"])
    descriptions: dict[str, str] = {}
    for name in HM_ARTICLES_DESC:
        if (folder / name).is_file():
            extra = _csv(folder / name, ("article_id",))
            ids = _hm_article_id(extra["article_id"])
            for key, text in zip(ids, extra.get("detail_desc", pd.Series(dtype=str))):
                if text and text.strip() and key not in descriptions:
                    descriptions[key] = text.strip()
    tables: Tables = {}
    prices = None
    if (folder / HM_TRANSACTIONS).is_file():
        tx = _csv(folder / HM_TRANSACTIONS, ("customer_id", "article_id", "price", "t_dat"))
        items = _hm_article_id(tx["article_id"])
        prices = pd.to_numeric(tx["price"], errors="coerce").groupby(items.to_numpy()).median()
        brand_of = dict(zip(articles["article_id"], articles["section_name"].astype(str)))
        tables["interactions"] = conform("interactions", pd.DataFrame({
            "user_id": tx["customer_id"].str.strip(),
            "item_id": items,
            "brand_id": items.map(brand_of),
            "event": "order",
            "timestamp": tx["t_dat"],
        }))
    frame = pd.DataFrame({
        "item_id": articles["article_id"],
        "name": _blank_to_na(articles["prod_name"]),
        "description": articles["article_id"].map(descriptions),
        "brand": _blank_to_na(articles["section_name"]),
        "category": _blank_to_na(articles["product_type_name"]),
        "category_group": _blank_to_na(articles["product_group_name"]),
        "division": _blank_to_na(articles["index_group_name"]),
        "price": articles["article_id"].map(prices) if prices is not None else np.nan,
        "image_url": _blank_to_na(articles["image_url"]) if "image_url" in articles.columns else None,
    })
    for source, column in HM_ATTRIBUTES.items():
        frame[column] = _blank_to_na(articles[source])
    tables["catalogue"] = conform("catalogue", frame)
    if (folder / HM_CUSTOMERS).is_file():
        customers = _csv(folder / HM_CUSTOMERS, ("customer_id", "fashion_news_frequency"))
        news = customers["fashion_news_frequency"].str.strip().str.upper()
        tables["customers"] = conform("customers", pd.DataFrame({
            "user_id": customers["customer_id"].str.strip(),
            "unsubscribed": news.isin(("NONE", "")),
            "bounced": False,
            "test_account": False,
        }))
    return tables


# ---------------------------------------------------------------------------------------------- Myntra
MYNTRA_FILE = "myntra_products_catalog.csv"


def read_myntra(folder: str | Path) -> Tables:
    """Myntra Fashion Clothing Products Catalog: catalogue only.

    Product_ID -> item_id, Product_Name -> name, Product_Brand -> brand, Gender -> division, Price ->
    price, Description -> description, Primary_Color (leading space stripped) -> attr_colour. The source
    has no category column; category stays missing. The empty trailing column is dropped.
    """
    (path,) = _need(Path(folder), MYNTRA_FILE)
    raw = _csv(path, ("Product_ID", "Product_Name", "Description", "Product_Brand", "Gender", "Price",
                      "Primary_Color"))
    frame = pd.DataFrame({
        "item_id": raw["Product_ID"].str.strip(),
        "name": _blank_to_na(raw["Product_Name"]),
        "description": _blank_to_na(raw["Description"]),
        "brand": _blank_to_na(raw["Product_Brand"]),
        "division": _blank_to_na(raw["Gender"]),
        "price": raw["Price"],
        "attr_colour": _blank_to_na(raw["Primary_Color"]),
    })
    return {"catalogue": conform("catalogue", frame)}


# ---------------------------------------------------------------------------------------------- Mango
MANGO_PRODUCTS = "product_data.csv"
MANGO_OUTFITS = "outfit_data.csv"
MANGO_ATTRIBUTES = {
    "des_color_specification_esp": "attr_colour", "des_agrup_color_eng": "attr_colour_group",
    "des_fabric": "attr_fabric", "des_age": "attr_age", "des_product_category": "attr_product_category",
    "des_product_aggregated_family": "attr_aggregated_family",
}


def read_mango(folder: str | Path) -> Tables:
    """Mango outfits (Datathon FME 2023): catalogue and curated outfits.

    cod_modelo_color -> item_id, des_product_type -> category, des_product_family -> category_group,
    des_sex -> division, des_line (Mango's lines: SHE, VIOLETA, ...) -> brand, colour/colour group/fabric/
    age/category/aggregated family -> attr_*, des_filename -> image_url (not reachable here). The source
    has no product names: name = "<type>, <colour group>" in lower case (e.g. "trousers, white").
    """
    products_path, outfits_path = _need(Path(folder), MANGO_PRODUCTS, MANGO_OUTFITS)
    raw = _csv(products_path, ("des_product_type", "des_agrup_color_eng", "cod_modelo_color", "des_line",
                               "des_product_family", "des_sex", "des_filename", *MANGO_ATTRIBUTES))
    kind = _blank_to_na(raw["des_product_type"])
    colour = _blank_to_na(raw["des_agrup_color_eng"])
    frame = pd.DataFrame({
        "item_id": raw["cod_modelo_color"].str.strip(),
        "name": (kind.fillna("item") + ", " + colour.fillna("")).str.rstrip(", ").str.lower(),
        "brand": _blank_to_na(raw["des_line"]),
        "category": kind,
        "category_group": _blank_to_na(raw["des_product_family"]),
        "division": _blank_to_na(raw["des_sex"]),
        "image_url": _blank_to_na(raw["des_filename"]),
    })
    for source, column in MANGO_ATTRIBUTES.items():
        frame[column] = _blank_to_na(raw[source])
    outfits = _csv(outfits_path, ("cod_outfit", "cod_modelo_color"))
    outfits = pd.DataFrame({"outfit_id": outfits["cod_outfit"].str.strip(),
                            "item_id": outfits["cod_modelo_color"].str.strip()})
    return {"catalogue": conform("catalogue", frame), "outfits": conform("outfits", outfits.drop_duplicates())}


# ---------------------------------------------------------------------------------------------- Polyvore
POLYVORE_OUTFITS = ("valid.json", "train.json", "test.json")
POLYVORE_CATEGORIES = "categories.csv"
POLYVORE_ITEM_CATEGORIES = "train_category.json"
POLYVORE_COMPATIBILITY = ("compatibility_valid.txt", "compatibility_train.txt", "compatibility_test.txt")


def read_polyvore(folder: str | Path) -> Tables:
    """Polyvore Outfits (ECCV 2018): outfits, a catalogue of their items with categories, compatibility rows.

    Outfit files (`valid.json` and, where present, train/test) -> outfits (set_id, item_id). Catalogue:
    every outfit item; category = fine category, category_group = semantic category (from
    `train_category.json` + `categories.csv`; missing where the item has none), attr_category_id.
    Extra table `compatibility`: one row per item of each labelled question, columns question
    (line number, 1-based), label (1 compatible / 0 not), position, outfit_id, item_id.
    """
    folder = Path(folder)
    outfit_files = [folder / n for n in POLYVORE_OUTFITS if (folder / n).is_file()]
    if not outfit_files:
        raise WorkspaceError(f"{folder} has no Polyvore outfit file ({', '.join(POLYVORE_OUTFITS)})")
    rows: list[tuple[str, str, int]] = []
    for path in outfit_files:
        for outfit in json.loads(path.read_text(encoding="utf-8")):
            for item in outfit["items"]:
                rows.append((str(outfit["set_id"]), str(item["item_id"]), int(item["index"])))
    pairs = pd.DataFrame(rows, columns=["outfit_id", "item_id", "index"])
    position = {(o, str(i)): item for o, item, i in rows}
    item_category: dict[str, str] = {}
    if (folder / POLYVORE_ITEM_CATEGORIES).is_file():
        item_category = {str(k): str(v) for k,
                         v in json.loads((folder / POLYVORE_ITEM_CATEGORIES).read_text(encoding="utf-8")).items()}
    names: dict[str, tuple[str, str]] = {}
    if (folder / POLYVORE_CATEGORIES).is_file():
        categories = _csv(folder / POLYVORE_CATEGORIES, header=None, names=["id", "fine", "semantic"])
        names = {r.id.strip(): (r.fine.strip(), r.semantic.strip()) for r in categories.itertuples()}
    items = pd.Series(pd.unique(pairs["item_id"]), dtype=str)
    category_id = items.map(item_category)
    fine = category_id.map(lambda c: names.get(c, ("", ""))[0] if isinstance(c, str) else "")
    semantic = category_id.map(lambda c: names.get(c, ("", ""))[1] if isinstance(c, str) else "")
    catalogue = pd.DataFrame({
        "item_id": items,
        "category": _blank_to_na(fine),
        "category_group": _blank_to_na(semantic),
        "attr_category_id": category_id,
    })
    tables: Tables = {
        "catalogue": conform("catalogue", catalogue),
        "outfits": conform("outfits", pairs[["outfit_id", "item_id"]].drop_duplicates()),
    }
    compat: list[tuple[int, int, int, str, str]] = []
    for name in POLYVORE_COMPATIBILITY:
        path = folder / name
        if not path.is_file():
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            parts = line.split()
            if not parts:
                continue
            label = int(parts[0])
            for pos, token in enumerate(parts[1:], start=1):
                set_id, _, index = token.rpartition("_")
                compat.append((number, label, pos, set_id, position.get((set_id, index), "")))
    if compat:
        frame = pd.DataFrame(compat, columns=["question", "label", "position", "outfit_id", "item_id"])
        frame["item_id"] = _blank_to_na(frame["item_id"])  # a token whose outfit is not in the outfit files
        frame["outfit_id"] = frame["outfit_id"].astype(TEXT)
        frame["label"] = frame["label"].astype(np.int8)
        tables["compatibility"] = frame
    return tables


# ---------------------------------------------------------------------------------------------- Tmall
TMALL_PAIRS = "train_format1.csv"
TMALL_LOG = ("user_log_format1.csv", "user_log_format1_head10k.csv")
TMALL_ACTIONS = {"0": "click", "1": "add_to_bag", "2": "order", "3": "wishlist"}


def read_tmall(folder: str | Path) -> Tables:
    """Tmall IJCAI-15 repeat buyers: user -> merchant purchase pairs as interactions (merchant = brand).

    `train_format1.csv` -> interactions (user_id, brand_id = merchant_id, item_id missing, event "order",
    no timestamp) and an extra table `repeat_buyers` (user_id, brand_id, label 1 = came back within six
    months). Where a log file is present, extra table `log` in the interactions schema: item_id, brand_id =
    seller_id (the merchant, as in the pairs), action_type 0/1/2/3 -> click/add_to_bag/order/wishlist,
    time_stamp MMDD -> 2014-MM-DD UTC.
    """
    folder = Path(folder)
    (pairs_path,) = _need(folder, TMALL_PAIRS)
    pairs = _csv(pairs_path, ("user_id", "merchant_id", "label"))
    users = pairs["user_id"].str.strip()
    merchants = pairs["merchant_id"].str.strip()
    tables: Tables = {
        "interactions": conform("interactions", pd.DataFrame({
            "user_id": users, "brand_id": merchants, "event": "order",
        })),
        "repeat_buyers": pd.DataFrame({
            "user_id": users.astype(TEXT), "brand_id": merchants.astype(TEXT),
            "label": pd.to_numeric(pairs["label"], errors="coerce").fillna(-1).astype(np.int8),
        }),
    }
    logs = [folder / n for n in TMALL_LOG if (folder / n).is_file()]
    if logs:
        log = _csv(logs[0], ("user_id", "item_id", "seller_id", "action_type", "time_stamp"))
        stamp = log["time_stamp"].str.strip().str.zfill(4)
        tables["log"] = conform("interactions", pd.DataFrame({
            "user_id": log["user_id"].str.strip(),
            "item_id": log["item_id"].str.strip(),
            "brand_id": log["seller_id"].str.strip(),
            "event": log["action_type"].str.strip().map(TMALL_ACTIONS),
            "timestamp": "2014-" + stamp.str[:2] + "-" + stamp.str[2:],
        }))
    return tables


READERS: dict[str, Callable[[str | Path], Tables]] = {
    "fashion_product_images": read_fashion_product_images,
    "hm": read_hm,
    "myntra": read_myntra,
    "mango": read_mango,
    "polyvore": read_polyvore,
    "tmall": read_tmall,
}

# Folder names in ../shared/data, so a person can say `--public tmall` without the folder.
DEFAULT_FOLDERS: dict[str, str] = {
    "fashion_product_images": "fashion-product-images",
    "hm": "hm-sample",
    "myntra": "myntra-catalog",
    "mango": "mango-outfits-2023",
    "polyvore": "polyvore-outfits-partial",
    "tmall": "tmall-ijcai15-sample",
}


def read_public(name: str, folder: str | Path) -> Tables:
    """Read a public data set by its short name (fashion_product_images, hm, myntra, mango, polyvore, tmall)."""
    key = name.strip().lower().replace("-", "_").replace("&", "")
    aliases = {"fpi": "fashion_product_images", "fashion": "fashion_product_images", "h_m": "hm", "hnm": "hm"}
    key = aliases.get(key, key)
    if key not in READERS:
        raise WorkspaceError(f"unknown public data set {name!r}: use one of {', '.join(READERS)}")
    folder = Path(folder)
    if not folder.is_dir():
        raise WorkspaceError(f"no folder {folder}: give the folder that holds the {key} files")
    try:
        return READERS[key](folder)
    except AtelierError:
        raise
    except (KeyError, ValueError, TypeError, IndexError, UnicodeDecodeError, OSError) as error:
        # A damaged copy (cut JSON, non-UTF-8 bytes, odd values): a message naming the set, never a traceback.
        raise ValidationError([Problem(f"{key}:{folder.name}", None, None, f"public data set could not be read "
                                       f"({type(error).__name__}: {str(error)[:200]}): use the original download",
                                       None)]) from error
