"""Geo analyser speed (texts/s on one core) and how often it finds a Crimean place in non-Crimean text.

Example:
    python benchmarks/bench_geo.py --limit 20000
    python benchmarks/bench_geo.py --scaling      # one post naming places 1,000 … 8,000 times, and a 1 MB one

Texts: sentirueval tweets (short, not Crimean) and «Наш Санкт-Петербург» appeals (longer, not
Crimean) from ../shared/data, plus the golden table. Any place found in the first two is a false
positive, so their hit rate is an upper bound of the false-positive rate.
"""
from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nlp.geo import load_gazetteer, locate  # noqa: E402
from nlp.normalize import lemma, tokenize  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"


def read_tweets(limit: int) -> list[str]:
    """Short texts from the sentirueval tweets."""
    with (SHARED / "sentirueval_bank_telecom_tweets" / "sentirueval_tweets.csv").open(encoding="utf-8") as fh:
        return [row["text"] for _, row in zip(range(limit), csv.DictReader(fh))]


def read_appeals(limit: int) -> list[str]:
    """City appeals (St Petersburg), the first 400 characters each."""
    import pandas as pd

    frame = pd.read_parquet(SHARED / "spb_our_spb_appeals" / "spb_appeals_2020_2021.parquet", columns=["text"])
    return [t[:400] for t in frame["text"].dropna().head(limit)]


def read_golden() -> list[str]:
    """Texts of the golden table."""
    with (ROOT / "tests" / "nlp" / "golden_geo.tsv").open(encoding="utf-8") as fh:
        return [row["text"] for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)]


def timed(texts: list[str]) -> tuple[float, list]:
    """Seconds spent locating all texts, and the matches."""
    start = time.perf_counter()
    matches = [locate(t) for t in texts]
    return time.perf_counter() - start, matches


def report(name: str, texts: list[str]) -> None:
    """Print cold and warm speed, tokenize share and the place-found rate of one text set."""
    lemma.cache_clear()
    cold, matches = timed(texts)
    warm, _ = timed(texts)
    start = time.perf_counter()
    tokens = [tokenize(text) for text in texts]
    tok = time.perf_counter() - start
    start = time.perf_counter()
    for text, toks in zip(texts, tokens):
        locate(text, tokens=toks)
    geo = time.perf_counter() - start
    found = [(t, m) for t, m in zip(texts, matches) if m.municipality]
    words = sum(len(t.split()) for t in texts) / len(texts)
    ms = 1e3 / len(texts)
    print(f"{name}: {len(texts)} texts, {words:.0f} words avg, place found in {len(found) / len(texts):.1%}\n"
          f"    locate(text): cold lemma cache {len(texts) / cold:,.0f} texts/s ({cold * ms:.3f} ms), "
          f"warm {len(texts) / warm:,.0f} texts/s ({warm * ms:.3f} ms)\n"
          f"    razdel tokenize alone {tok * ms:.3f} ms; locate(text, tokens=…) {len(texts) / geo:,.0f} texts/s "
          f"({geo * ms:.3f} ms)")
    for text, match in found[:5]:
        print(f"      {match.evidence!r} -> {match.municipality} / {match.settlement} ({match.confidence})")


SCALING_UNIT = "Симферополь, Керчь, Ялта, ул. Ленина "  # three place mentions and a street


def scaling() -> None:
    """Seconds to locate one post repeating SCALING_UNIT 1,000 … 8,000 times, then a 1 MB such post
    (work linear in the mentions: each doubling should about double the time)."""
    locate("Ялта")
    posts = [(f"{n:,} repeats", SCALING_UNIT * n) for n in (1000, 2000, 4000, 8000)]
    posts.append(("1 MB post", SCALING_UNIT * (1_000_000 // len(SCALING_UNIT))))
    for name, text in posts:
        start = time.perf_counter()
        match = locate(text)
        print(f"{name}: {len(text):,} chars, {time.perf_counter() - start:.2f} s -> {match.municipality}", flush=True)


def main() -> None:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=10000)
    parser.add_argument("--scaling", action="store_true", help="time one place-heavy post of growing size instead")
    args = parser.parse_args()
    if args.scaling:
        return scaling()
    start = time.perf_counter()
    load_gazetteer()
    print(f"gazetteer load {time.perf_counter() - start:.2f} s")
    report("golden", read_golden() * 20)
    if SHARED.is_dir():
        report("tweets", read_tweets(args.limit))
        report("spb appeals", read_appeals(args.limit))


if __name__ == "__main__":
    main()
