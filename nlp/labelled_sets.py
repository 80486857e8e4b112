"""The hand-labelled sets in datasets/ (see datasets/LABELLING.md): real posts, Chuvashia and Troitsk appeals.

Every set comes as one frame with the columns of ROW_COLUMNS: `text`, `genre` (complaint | notice | other),
`topic_group`, `importance`, `municipality`, `settlement` (Crimean real posts only), `channel` (how the centre
would have seen the text: appeal, citizen_post, citizen_comment, official_post, media_post), `region`, `ref`
(URL, portal id or forum link), `split` (train | test) and `source` (the set's name).

- real_posts: short quotes of public pages with their URLs, labels and split in datasets/real_posts/ — in the
  project, so it is scored in a fresh clone too;
- chuvashia, troitsk: labels only, keyed by the portal id / forum link; the texts are joined from
  ../shared/data (the appeal sets have no licence to be copied), so these sets need ../shared.
Portal sets are split in halves by a hash of their key (`split_of`): the train half may train a model, the
test half never does.

Example:
    rows = load_set("real_posts")                  # no ../shared needed
    rows = load_sets(Path("../shared/data"))       # every set that can be loaded here, concatenated
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT / "datasets"
GENRES = ("complaint", "notice", "other")
CHANNELS = ("appeal", "citizen_post", "citizen_comment", "official_post", "media_post")
ROW_COLUMNS = ["source", "ref", "split", "region", "channel", "genre", "topic_group", "importance",
               "municipality", "settlement", "text"]
SETS = ("real_posts", "chuvashia", "troitsk")
PORTAL_TEST_SHARE = 50  # percent of a portal set's rows in its test half
_ADDRESSEE = re.compile(r"Владимир\w*\s+Евген\w*|Дудочкин\w*", re.IGNORECASE)  # the head of Troitsk


class SetUnavailable(RuntimeError):
    """A set that cannot be loaded here (its texts live in ../shared/data, which is absent)."""


def split_of(key: str, test_share: int = PORTAL_TEST_SHARE) -> str:
    """'test' or 'train' by a stable hash of `key` (the same key always lands on the same side)."""
    return "test" if int(hashlib.sha1(key.encode()).hexdigest()[:8], 16) % 100 < test_share else "train"


def _read_tsv(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: labelled set file not found")
    return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, quoting=3)


def _blank_to_none(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    return df.assign(**{c: df[c].where(df[c].str.strip() != "", None) for c in columns if c in df})


def load_real_posts(root: Path = DATASETS) -> pd.DataFrame:
    """datasets/real_posts/real_posts.tsv: quotes of public pages with labels, region and split."""
    df = _read_tsv(root / "real_posts" / "real_posts.tsv")
    df = _blank_to_none(df, ["topic", "municipality", "settlement"])
    return df.assign(source="real_posts", ref=df["url"])[ROW_COLUMNS + ["topic", "id", "url", "batch"]]


def _need(shared: Path | None, name: str) -> Path:
    if shared is None or not Path(shared).is_dir():
        raise SetUnavailable(f"set {name!r} joins its texts from ../shared/data, which is not here")
    return Path(shared)


def load_chuvashia(shared: Path | None, root: Path = DATASETS) -> pd.DataFrame:
    """Hand labels of Chuvashia's «Народный контроль» appeals joined with their texts (title. text)."""
    shared = _need(shared, "chuvashia")
    labels = _read_tsv(root / "chuvashia" / "labels.tsv")
    raw = pd.read_csv(shared / "chuvashia_narodny_kontrol_appeals" / "chuvashia_nk_appeals_2015_2021.csv",
                      dtype={"id": str})
    df = labels.merge(raw[["id", "title", "text", "category", "executor"]], on="id", how="left",
                      validate="one_to_one")
    if df["text"].isna().any():
        raise ValueError(f"chuvashia labels name ids not in the shared file: {df.loc[df['text'].isna(), 'id'].iloc[0]}")
    text = (df["title"].fillna("").str.strip() + ". " + df["text"].fillna("").str.strip()).str.strip(". ")
    return df.assign(source="chuvashia", ref="nk.cap.ru/claims/" + df["id"], split=[split_of(f"chuvashia:{i}")
                     for i in df["id"]], region="Чувашская Республика", channel="appeal", municipality=None,
                     settlement=None, text=text)[ROW_COLUMNS + ["sample", "category", "executor"]]


def load_troitsk(shared: Path | None, root: Path = DATASETS) -> pd.DataFrame:
    """Hand labels of appeals to the head of Troitsk joined with their texts (title. text, addressee removed)."""
    shared = _need(shared, "troitsk")
    labels = _read_tsv(root / "troitsk" / "labels.tsv")
    raw = pd.read_csv(shared / "troitsk_appeals_2017_2020" / "troitsk_head_appeals.csv")
    df = labels.merge(raw[["link", "title", "text"]], on="link", how="left", validate="one_to_one")
    if df["text"].isna().all() and len(df):
        raise ValueError("troitsk labels name links not in the shared file")
    text = (df["title"].fillna("") + ". " + df["text"].fillna("")).str.strip(". ").str.replace(_ADDRESSEE, "",
                                                                                                regex=True)
    return df.assign(source="troitsk", ref=df["link"], split=[split_of(f"troitsk:{k}") for k in df["link"]],
                     region="Москва (Троицк)", channel="appeal", municipality=None, settlement=None,
                     text=text)[ROW_COLUMNS]


def load_set(name: str, shared: Path | None = None, root: Path = DATASETS) -> pd.DataFrame:
    """One set by name (see SETS)."""
    if name == "real_posts":
        return load_real_posts(root)
    if name == "chuvashia":
        return load_chuvashia(shared, root)
    if name == "troitsk":
        return load_troitsk(shared, root)
    raise KeyError(f"unknown labelled set {name!r}; known: {', '.join(SETS)}")


def load_sets(shared: Path | None, names: tuple[str, ...] = SETS, root: Path = DATASETS) -> pd.DataFrame:
    """Every named set that can be loaded here (sets needing an absent ../shared are left out), concatenated."""
    frames = []
    for name in names:
        try:
            frames.append(load_set(name, shared, root)[ROW_COLUMNS])
        except SetUnavailable:
            continue
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=ROW_COLUMNS)
