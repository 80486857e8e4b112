"""Training data: labelled rows `text, source, created_dt, topic_group, genre, is_complaint, channel, split`.

Sources and labels (documented in models/<version>/meta.json too):
- spb: «Наш Санкт-Петербург» appeals → complaint; topic by config/topics/spb_crosswalk.csv (reason → ИМ group);
  the street-lighting reason goes to Дороги unless the text speaks of a yard, park or entrance (ИМ convention:
  road lighting under Дороги, yard lamps under Благоустройство).
- real_posts, chuvashia, troitsk: the hand-labelled sets of datasets/ (nlp.labelled_sets) with genre, topic and
  their own train/test split (chuvashia and troitsk only where ../shared/data holds their texts).
- sentirueval: tweets, overall −1 → complaint, 0 / 1 → other; mixed dropped.
- cedr: LiveJournal/Lenta news/tweets that are neutral or positive (no emotion, joy, surprise) → other (Lenta
  news as a media outlet's post); sadness/fear/anger rows are dropped (they may be complaints).
- seed: ИМ hackathon and Omsk ЦУР topic names, ПОС category names and lexicon words as short topic rows
  (no genre).
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

from nlp import labelled_sets
from nlp.features import channel_tokens, featurize
from nlp.normalize import lemmas

CONFIG = Path(__file__).resolve().parents[1] / "config" / "topics"
COLUMNS = ["text", "source", "created_dt", "topic_group", "genre", "channel", "split"]
EVAL_COLUMNS = ["region", "importance", "municipality", "settlement"]  # labelled sets only: scored, not trained
TEST_FRACTION = 0.2
LABELLED = labelled_sets.SETS  # sets whose rows carry their own split
SPB_LIGHTING = "Неисправно освещение, опора освещения повреждена"
_YARD = re.compile(r"двор|парк|сквер|площадк|подъезд|сад|аллее|аллея|бульвар", re.IGNORECASE)
_DIGITS = re.compile(r"^\d+$")

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
    street_light = (df["reason"] == SPB_LIGHTING) & ~df["text"].fillna("").str.contains(_YARD)
    group = df["im_group"].where(~street_light, "Дороги")
    return pd.DataFrame({"text": df["text"], "source": "spb", "created_dt": pd.to_datetime(df["created_dt"]),
                         "topic_group": group, "genre": "complaint", "channel": "appeal", "split": None,
                         "spb_reason": df["reason"]})


def load_sentirueval(shared: Path) -> pd.DataFrame:
    """SentiRuEval bank/telecom tweets: negative → complaint, neutral/positive → other."""
    raw = pd.read_csv(shared / "sentirueval_bank_telecom_tweets" / "sentirueval_tweets.csv")
    raw = raw[raw["overall"].astype(str).isin(["-1", "0", "1"])]
    return pd.DataFrame({"text": raw["text"], "source": "sentirueval",
                         "created_dt": pd.to_datetime(raw["date"], unit="s"), "topic_group": None,
                         "genre": np.where(raw["overall"].astype(str) == "-1", "complaint", "other"),
                         "channel": "citizen_post", "split": None})


def load_cedr(shared: Path) -> pd.DataFrame:
    """CEDR blog/news/tweet sentences without sadness, fear or anger → other."""
    folder = shared / "cedr_emotions"
    raw = pd.concat([pd.read_csv(folder / f"cedr-main-{part}.csv") for part in ("train", "test")])
    raw = raw[~raw["labels"].astype(str).str.contains(r"[134]")]
    return pd.DataFrame({"text": raw["text"], "source": "cedr:" + raw["source"].astype(str),
                         "created_dt": pd.NaT, "topic_group": None, "genre": "other",
                         "channel": np.where(raw["source"].astype(str) == "lenta", "media_post", "citizen_post"),
                         "split": None})


def load_seed(shared: Path) -> pd.DataFrame:
    """Topic names (ИМ hackathon, Omsk ЦУР, ПОС categories) and lexicon words as short labelled rows."""
    hack = pd.read_csv(shared / "im_topics_hackathon" / "topic2big_topic_stars.csv")
    walk = pd.read_csv(CONFIG / "hackathon_crosswalk.csv").set_index("hackathon_group")["im_group"]
    over = pd.read_csv(CONFIG / "hackathon_topic_overrides.csv").set_index("topic")["im_group"]
    names = hack["topic"].str.lstrip("★ ")
    hack_rows = pd.DataFrame({"text": names, "topic_group": [over.get(n, walk.get(g)) for n, g in
                                                              zip(names, hack["topic_group"])]})
    topics = pd.read_csv(shared / "crimea_agencies" / "topics.csv")
    pos = topics[topics["record_type"] == "pos_category_to_im_group"]
    pos_rows = pd.DataFrame({"text": pos["pos_category"].str.strip(), "topic_group": pos["im_group"]})
    omsk = pd.read_csv(CONFIG / "omsk_topic_groups.csv")
    omsk_rows = pd.DataFrame({"text": omsk["topic"], "topic_group": omsk["im_group"]})
    lex = read_lexicon()
    lex_rows = pd.DataFrame({"text": [w.replace("_", " ") for w in lex], "topic_group": list(lex.values())})
    rows = pd.concat([hack_rows, pos_rows, omsk_rows, lex_rows], ignore_index=True).dropna()
    return rows.assign(source="seed", created_dt=pd.NaT, genre=None, channel=None, split="train")[COLUMNS]


def load_labelled(shared: Path | None) -> pd.DataFrame:
    """The hand-labelled sets of datasets/ that can be loaded here, in the training layout."""
    rows = labelled_sets.load_sets(shared)
    return rows.assign(created_dt=pd.NaT)[COLUMNS + EVAL_COLUMNS]


def read_lexicon() -> dict[str, str]:
    """Lexicon lemma (or 'lemma_lemma' bigram) → ИМ group."""
    lex = pd.read_csv(CONFIG / "lexicon.csv")
    return {w: g for g, ws in zip(lex["im_group"], lex["lemmas"]) for w in ws.split()}


def dedup_key(text: str) -> str:
    """Near-duplicate key: lemmas of the normalised text without numbers ('Мусор!!' == 'мусор')."""
    return " ".join(w for w in lemmas(text) if not _DIGITS.match(w))


def add_keys(df: pd.DataFrame) -> pd.DataFrame:
    """Add `lemmas` (the topic text), `gtext` (the genre text, with the row's channel), `key` (dedup key) and
    `is_complaint` (genre == complaint; NaN without a genre) columns."""
    channels = df["channel"] if "channel" in df else pd.Series([None] * len(df), index=df.index)
    feats = [featurize(str(t), channel_tokens(c if isinstance(c, str) else None))
             for t, c in zip(df["text"], channels)]
    genre = df["genre"] if "genre" in df else pd.Series([None] * len(df), index=df.index)
    return df.assign(lemmas=[f.topic_text for f in feats], gtext=[f.genre_text for f in feats],
                     key=[" ".join(w for w in f.lemmas if not _DIGITS.match(w)) for f in feats],
                     is_complaint=np.where(genre.isna(), np.nan, (genre == "complaint").astype(float)))


def split_rows(df: pd.DataFrame, spb_cutoff: pd.Timestamp | None = None) -> tuple[pd.DataFrame, pd.Timestamp]:
    """De-duplicate by key (hand-labelled rows win), then split: labelled sets keep their own split, spb by time
    (latest 20 % → test), seed → train, the rest by key hash."""
    df = df[df["key"].str.len() > 0]
    first = np.where(df["source"].isin(LABELLED), 0, 1)
    df = df.assign(_first=first).sort_values(["_first", "created_dt"], kind="stable", na_position="last")
    df = df.drop_duplicates("key", keep="first").drop(columns="_first")
    spb = df["source"] == "spb"
    if spb_cutoff is None:
        spb_cutoff = df.loc[spb, "created_dt"].quantile(1 - TEST_FRACTION)
    hashed = np.array([int(hashlib.sha1(k.encode()).hexdigest()[:8], 16) % 100 for k in df["key"]])
    test = np.where(spb, df["created_dt"] >= spb_cutoff, hashed < TEST_FRACTION * 100)
    preset = df["split"].notna().to_numpy() if "split" in df else np.zeros(len(df), bool)
    split = np.where(preset, df["split"] if "split" in df else "train", np.where(test, "test", "train"))
    split = np.where((df["source"] == "seed").to_numpy(), "train", split)
    return df.assign(split=split), spb_cutoff


LOADERS = (load_spb, load_sentirueval, load_cedr, load_seed)


def load_all(shared: Path, sample: int | None = None, progress: Progress | None = None) -> pd.DataFrame:
    """Every source, optionally `sample` rows per shared source (seeded; the hand-labelled sets whole), with
    lemmas, genre texts and keys."""
    frames = []
    for load in LOADERS:
        part = load(shared)
        if sample is not None and part["source"].iloc[0] != "seed" and len(part) > sample:
            part = part.sample(sample, random_state=13)
        frames.append(part[COLUMNS])
        if progress:
            progress(f"loaded {load.__name__[5:]}: {len(part)} rows")
    labelled = load_labelled(shared)
    frames.append(labelled)
    if progress:
        counts = labelled["source"].value_counts()
        progress("loaded labelled sets: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    df = pd.concat(frames, ignore_index=True)
    df = df[df["text"].notna() & (df["text"].astype(str).str.strip() != "")]
    return add_keys(df)


def snapshot_sha256(df: pd.DataFrame) -> str:
    """sha256 over the training texts and labels in order (the data snapshot fingerprint)."""
    digest = hashlib.sha256()
    for row in df[["source", "text", "topic_group", "genre"]].astype(object).fillna("").astype(str).itertuples(
            index=False):
        digest.update("\t".join(row).encode())
        digest.update(b"\n")
    return digest.hexdigest()
