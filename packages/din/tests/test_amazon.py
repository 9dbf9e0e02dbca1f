"""The Amazon Electronics loader on a tiny folder in the public files' exact format (jmcauley.ucsd.edu 2014).

``reviews_Electronics_5.json``: one strict-JSON review per line (the 5-core dump's keys, in its order;
some lines lack ``reviewerName``). ``meta_Electronics.json``: one Python-literal dict per line (single
quotes, nested ``related`` / ``salesRank``, several category paths), as the official ``1_convert_pd.py``
reads with ``eval``. ASINs of old items are all digits with a leading zero (``0528881469``).
"""

import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from pkg_din.config import PRESETS
from pkg_din.data import load_amazon, load_dataset
from pkg_din.experiment import amazon
from pkg_shared.cli import RunContext
from pkg_shared.data import DataError
from pkg_shared.io import RunDir

ASINS = ["0528881469", "0594451647", "0594481813", "0972683275", "1400501466", "B00000J1V5", "B00000JDF5",
         "B00000JDF6", "B00000JI4F", "B00001OWYM", "B00001P4XA", "B00001P4XH", "B00001P4ZH", "B00001W0DI"]  # fmt: skip
PATHS = [  # the LAST path's last level is the category (official 2_remap_id.py: x[-1][-1])
    [["Electronics", "GPS & Navigation", "Vehicle GPS"], ["Electronics", "Car Electronics", "Car Video"]],
    [["Electronics", "Computers & Accessories", "Touch Screen Tablet Accessories", "Chargers & Adapters"]],
    [["Electronics", "Camera & Photo", "Accessories"], ["Electronics", "Camera & Photo", "Tripods"]],
    [["Electronics", "Headphones"]],
]


def category(i: int) -> str:
    return PATHS[i % len(PATHS)][-1][-1]


@pytest.fixture(scope="module")
def amazon_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    folder = root / "amazon-electronics"
    folder.mkdir()
    rng = np.random.default_rng(0)
    lines = []
    for u in range(8):
        user = f"A{u:02d}KZQ8{u}HT4TNM"
        items = rng.choice(len(ASINS), size=5 + u % 4, replace=False)
        for t, i in enumerate(items):
            review = {"reviewerID": user, "asin": ASINS[i]}
            if u % 3:
                review["reviewerName"] = f'J. "Jay" Smith {u}'
            time = 1290643200 + 86400 * (7 * t + u)
            review |= {
                "helpful": [int(rng.integers(5)), 5],
                "reviewText": "Works \u00e9 great \\ fine",
                "overall": float(rng.integers(1, 6)),
                "summary": "ok",
                "unixReviewTime": time,
                "reviewTime": "11 25, 2010",
            }
            lines.append(json.dumps(review))
    (folder / "reviews_Electronics_5.json").write_text("\n".join(lines) + "\n", encoding="utf-8")
    meta = []
    for i, asin in enumerate([*ASINS, "B00002EQCW", "B00002SWHH"]):  # two items nobody reviewed
        record = {
            "asin": asin,
            "imUrl": f"http://ecx.images-amazon.com/images/I/{asin}.jpg",
            "related": {"also_bought": ["B00000J1V5"], "bought_together": [ASINS[0]]},
            "salesRank": {"Electronics": 1000 + i},
            "categories": PATHS[i % len(PATHS)],
            "title": f'Item {i}\'s "title"',
            "price": 9.99 + i,
        }
        meta.append(repr(record))
    (folder / "meta_Electronics.json").write_text("\n".join(meta) + "\n", encoding="utf-8")
    return root, len(lines)


def test_loader_keeps_string_asins_and_takes_the_last_category_path(amazon_root):
    root, n_reviews = amazon_root
    events, lookup = load_amazon(root)
    assert len(events) == n_reviews  # every review kept: "0528881469" is not read as the number 528881469
    assert set(events["item"]) <= set(ASINS) and events["time"].dtype == np.int64
    assert all(lookup[a] == category(i) for i, a in enumerate(ASINS))


def test_amazon_protocol_on_the_public_format(amazon_root):
    root, _ = amazon_root
    data = load_dataset("amazon", str(root), max_hist=4, eval_negatives=1)
    events, _ = load_amazon(root)
    per_user = events.groupby("user").size()
    frames = data.frames
    # official: 2 (n - 2) training samples per user; ours holds b_{n-1} out for validation -> 2 (n - 3)
    assert (frames["train"].groupby("user").size() == 2 * (per_user - 3)).all()
    assert (frames["test"].groupby("user").size() == 2).all() and len(frames["test"]) == 2 * len(per_user)
    assert frames["train"]["hist"].str.split("^").str.len().max() <= 4
    assert data.schema.n_cates == 2 + len({category(i) for i in range(len(ASINS))})


def test_amazon_experiment_runs_at_smoke_size(amazon_root, tmp_path):
    root, _ = amazon_root
    ctx = RunContext(
        "full", 0, torch.device("cpu"), RunDir.create(tmp_path, "din", 0), root, None, quiet=True
    )
    preset = replace(PRESETS["smoke"], train=replace(PRESETS["smoke"].train, batch_size=16))
    measured = amazon(ctx, preset)
    for model in ("base", "din", "din_dice"):
        assert 0.0 <= measured[f"amazon_{model}_gauc"] <= 1.0
    assert measured["amazon_din_minus_base_gauc"] == pytest.approx(
        measured["amazon_din_gauc"] - measured["amazon_base_gauc"]
    )


def test_a_review_file_in_another_format_is_a_data_error(tmp_path):
    folder = tmp_path / "amazon-electronics"
    folder.mkdir()
    (folder / "reviews_Electronics_5.json").write_text('{"user": "u", "item": "i"}\n')
    (folder / "meta_Electronics.json").write_text(repr({"asin": "i", "categories": [["a"]]}) + "\n")
    with pytest.raises(DataError, match="not the 5-core review dump"):
        load_amazon(tmp_path)
