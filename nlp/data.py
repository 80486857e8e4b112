"""Training data from ../shared/data: labelled rows `text, source, created_dt, topic_group, is_complaint, split`.

Sources and labels (documented in models/<version>/meta.json too):
- spb: «Наш Санкт-Петербург» appeals → complaint; topic by config/topics/spb_crosswalk.csv (reason → ИМ group).
- troitsk: appeals to the head of Troitsk (his name removed) → complaint unless it thanks; topic weakly labelled by
  config/topics/lexicon.csv (only when one group clearly wins).
- sentirueval: tweets, overall −1 → complaint, 0 / 1 → not; mixed dropped.
- cedr: LiveJournal/Lenta news/tweets that are neutral or positive (no emotion, joy, surprise) → not complaint;
  sadness/fear/anger rows are dropped (they may be complaints; as negatives they taught "ужас" = no complaint).
- seed: ИМ hackathon topic names, ПОС category names and lexicon words as short topic rows (no complaint label).
- other: in training, a seeded sample of the sentirueval/cedr training rows also serves as topic «Прочее»
  (banks, telecom, news: hackathon groups «Связь и телевидение», «Экономика и бизнес» → Прочее).
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from nlp.features import model_text
from nlp.normalize import lemmas

CONFIG = Path(__file__).resolve().parents[1] / "config" / "topics"
COLUMNS = ["text", "source", "created_dt", "topic_group", "is_complaint"]
TEST_FRACTION = 0.2
_THANKS = re.compile(r"благодар|спасибо", re.IGNORECASE)
_DIGITS = re.compile(r"^\d+$")
_ADDRESSEE = re.compile(r"Владимир\w*\s+Евген\w*|Дудочкин\w*", re.IGNORECASE)  # the head of Troitsk

Progress = Callable[[str], None]


def read_groups() -> list[str]:
    """The final topic-group label set (config/topics/groups.csv)."""
    return pd.read_csv(CONFIG / "groups.csv")["group"].tolist()


def load_spb(shared: Path) -> pd.DataFrame:
    """St Petersburg appeals with ИМ groups from the reason crosswalk (and the portal reason, for evaluation)."""
    raw = pd.read_parquet(shared / "spb_our_spb_appeals" / "spb_appeals_2020_2021.parquet",
                          columns=["text", "created_dt", "category", "reason"])
    walk = pd.read_csv(CONFIG / "spb_crosswalk.csv")
    df = raw.merge(walk[["spb_category", "spb_reason", "im_group"]], how="left",
                   left_on=["category", "reason"], right_on=["spb_category", "spb_reason"])
    if df["im_group"].isna().any():
        missing = df.loc[df["im_group"].isna(), "reason"].iloc[0]
        raise ValueError(f"spb_crosswalk.csv has no row for reason {missing!r}")
    return pd.DataFrame({"text": df["text"], "source": "spb", "created_dt": pd.to_datetime(df["created_dt"]),
                         "topic_group": df["im_group"], "is_complaint": 1.0, "spb_reason": df["reason"]})


def load_troitsk(shared: Path) -> pd.DataFrame:
    """Troitsk appeals: complaints unless they thank; lexicon topic where unambiguous."""
    raw = pd.read_csv(shared / "troitsk_appeals_2017_2020" / "troitsk_head_appeals.csv")
    text = (raw["title"].fillna("") + ". " + raw["text"].fillna("")).str.strip(". ")
    text = text.str.replace(_ADDRESSEE, "", regex=True)
    thanks = raw["title"].fillna("").str.contains(_THANKS)
    return pd.DataFrame({"text": text, "source": "troitsk", "created_dt": pd.to_datetime(raw["date"], errors="coerce"),
                         "topic_group": [label_by_lexicon(t) for t in text],
                         "is_complaint": np.where(thanks, 0.0, 1.0)})


def load_sentirueval(shared: Path) -> pd.DataFrame:
    """SentiRuEval bank/telecom tweets: negative → complaint, neutral/positive → not."""
    raw = pd.read_csv(shared / "sentirueval_bank_telecom_tweets" / "sentirueval_tweets.csv")
    raw = raw[raw["overall"].astype(str).isin(["-1", "0", "1"])]
    return pd.DataFrame({"text": raw["text"], "source": "sentirueval",
                         "created_dt": pd.to_datetime(raw["date"], unit="s"), "topic_group": None,
                         "is_complaint": (raw["overall"].astype(str) == "-1").astype(float)})


def load_cedr(shared: Path) -> pd.DataFrame:
    """CEDR blog/news/tweet sentences without sadness, fear or anger → not complaints."""
    folder = shared / "cedr_emotions"
    raw = pd.concat([pd.read_csv(folder / f"cedr-main-{part}.csv") for part in ("train", "test")])
    raw = raw[~raw["labels"].astype(str).str.contains(r"[134]")]
    return pd.DataFrame({"text": raw["text"], "source": "cedr:" + raw["source"].astype(str),
                         "created_dt": pd.NaT, "topic_group": None, "is_complaint": 0.0})


def load_seed(shared: Path) -> pd.DataFrame:
    """Topic names (ИМ hackathon, ПОС categories) and lexicon words as short labelled rows."""
    hack = pd.read_csv(shared / "im_topics_hackathon" / "topic2big_topic_stars.csv")
    walk = pd.read_csv(CONFIG / "hackathon_crosswalk.csv").set_index("hackathon_group")["im_group"]
    over = pd.read_csv(CONFIG / "hackathon_topic_overrides.csv").set_index("topic")["im_group"]
    names = hack["topic"].str.lstrip("★ ")
    hack_rows = pd.DataFrame({"text": names, "topic_group": [over.get(n, walk.get(g)) for n, g in
                                                              zip(names, hack["topic_group"])]})
    topics = pd.read_csv(shared / "crimea_agencies" / "topics.csv")
    pos = topics[topics["record_type"] == "pos_category_to_im_group"]
    pos_rows = pd.DataFrame({"text": pos["pos_category"].str.strip(), "topic_group": pos["im_group"]})
    lex = read_lexicon()
    lex_rows = pd.DataFrame({"text": [w.replace("_", " ") for w in lex], "topic_group": list(lex.values())})
    rows = pd.concat([hack_rows, pos_rows, lex_rows], ignore_index=True).dropna()
    return rows.assign(source="seed", created_dt=pd.NaT, is_complaint=np.nan)[COLUMNS]


def read_lexicon() -> dict[str, str]:
    """Lexicon lemma (or 'lemma_lemma' bigram) → ИМ group."""
    lex = pd.read_csv(CONFIG / "lexicon.csv")
    return {w: g for g, ws in zip(lex["im_group"], lex["lemmas"]) for w in ws.split()}


def label_by_lexicon(text: str, lexicon: dict[str, str] | None = None) -> str | None:
    """The lexicon group with the most hits if it has ≥2 and twice the runner-up, else None."""
    lexicon = lexicon or _LEXICON_CACHE.setdefault("lex", read_lexicon())
    seq = lemmas(text)
    grams = seq + [f"{a}_{b}" for a, b in zip(seq, seq[1:])]
    counts = pd.Series([lexicon[g] for g in grams if g in lexicon], dtype=object).value_counts()
    if counts.empty or counts.iloc[0] < 2 or (len(counts) > 1 and counts.iloc[0] < 2 * counts.iloc[1]):
        return None
    return str(counts.index[0])


_LEXICON_CACHE: dict[str, dict[str, str]] = {}


def dedup_key(text: str) -> str:
    """Near-duplicate key: lemmas of the normalised text without numbers ('Мусор!!' == 'мусор')."""
    return " ".join(w for w in lemmas(text) if not _DIGITS.match(w))


def add_keys(df: pd.DataFrame) -> pd.DataFrame:
    """Add `lemmas` (space-joined, the model input) and `key` (dedup key) columns."""
    seqs = [lemmas(t) for t in df["text"].astype(str)]
    return df.assign(lemmas=[model_text(s) for s in seqs],
                     key=[" ".join(w for w in s if not _DIGITS.match(w)) for s in seqs])


def split_rows(df: pd.DataFrame, spb_cutoff: pd.Timestamp | None = None) -> tuple[pd.DataFrame, pd.Timestamp]:
    """De-duplicate by key, then split: spb by time (latest 20 % → test), others by key hash; seed → train."""
    df = df[df["key"].str.len() > 0].sort_values("created_dt", kind="stable", na_position="last")
    df = df.drop_duplicates("key", keep="first")
    spb = df["source"] == "spb"
    if spb_cutoff is None:
        spb_cutoff = df.loc[spb, "created_dt"].quantile(1 - TEST_FRACTION)
    hashed = np.array([int(hashlib.sha1(k.encode()).hexdigest()[:8], 16) % 100 for k in df["key"]])
    test = np.where(spb, df["created_dt"] >= spb_cutoff, hashed < TEST_FRACTION * 100)
    test &= (df["source"] != "seed").to_numpy()
    return df.assign(split=np.where(test, "test", "train")), spb_cutoff


def load_all(shared: Path, sample: int | None = None, progress: Progress | None = None) -> pd.DataFrame:
    """Every source, optionally `sample` rows per source (seeded), with lemmas and keys."""
    frames = []
    for load in (load_spb, load_troitsk, load_sentirueval, load_cedr, load_seed):
        part = load(shared)
        if sample is not None and part["source"].iloc[0] != "seed" and len(part) > sample:
            part = part.sample(sample, random_state=13)
        frames.append(part[COLUMNS])
        if progress:
            progress(f"loaded {load.__name__[5:]}: {len(part)} rows")
    df = pd.concat(frames, ignore_index=True)
    df = df[df["text"].notna() & (df["text"].astype(str).str.strip() != "")]
    return add_keys(df)


def snapshot_sha256(df: pd.DataFrame) -> str:
    """sha256 over the training texts and labels in order (the data snapshot fingerprint)."""
    digest = hashlib.sha256()
    for row in df[["source", "text", "topic_group", "is_complaint"]].astype(object).fillna("").astype(str).itertuples(index=False):
        digest.update("\t".join(row).encode())
        digest.update(b"\n")
    return digest.hexdigest()
