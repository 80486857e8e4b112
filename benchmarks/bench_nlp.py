"""Posts analysed per second on one core with the shipped models, RSS, next to a naive per-post natasha pipeline.

Texts: real short posts from ../shared/data (SentiRuEval tweets + SPb appeals, mixed), or the Crimean golden
table repeated when ../shared is absent; then Crimean posts (the bundled sample and the golden tables), where
most texts name a place, so geo cannot skip them. Pinned to one CPU with BLAS threads set to 1.

Example:
    .venv/bin/python benchmarks/bench_nlp.py --n 20000 --natasha 1000
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import csv  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data"


def rss_mb() -> float:
    """Current resident set size of this process in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_texts(n: int) -> list[str]:
    """n posts: shared SentiRuEval + SPb texts (seeded), else the golden table repeated."""
    import pandas as pd

    if SHARED.is_dir():
        tweets = pd.read_csv(SHARED / "sentirueval_bank_telecom_tweets" / "sentirueval_tweets.csv")["text"]
        spb = pd.read_parquet(SHARED / "spb_our_spb_appeals" / "spb_appeals_2020_2021.parquet", columns=["text"])["text"]
        pool = pd.concat([tweets, spb]).dropna().sample(frac=1.0, random_state=7).tolist()
    else:
        from nlp.evaluation import read_golden

        pool = read_golden()["text"].tolist()
    return [pool[i % len(pool)] for i in range(n)]


def real_texts(n: int) -> list[str]:
    """n quotes of datasets/real_posts (longer, news-style), repeated."""
    from nlp.labelled_sets import load_real_posts

    pool = load_real_posts()["text"].tolist()
    return [pool[i % len(pool)] for i in range(n)]


def crimean_texts(n: int) -> list[str]:
    """n posts from the bundled sample and the golden tables (most name a Crimean place), repeated."""
    from nlp.evaluation import read_golden

    with open(ROOT / "samples" / "texts.tsv", encoding="utf-8", newline="") as fh:
        pool = [row["text"] for row in csv.DictReader(fh, delimiter="\t") if row["text"]]
    pool += read_golden()["text"].tolist()
    return [pool[i % len(pool)] for i in range(n)]


def bench_analyzer(texts: list[str], batch: int, use_geo: bool) -> dict[str, float]:
    """Cold and warm posts/s of the shipped analyzer in batches of `batch`."""
    from nlp.analyzer import load_analyzer
    from nlp.normalize import word_info
    from tsur.records import AnalysisInput

    before = rss_mb()
    analyzer = load_analyzer(use_geo=use_geo)
    analyzer.analyze([AnalysisInput(0, "прогрев загрузка словарей Ялта")])
    loaded = rss_mb()
    inputs = [AnalysisInput(i, t) for i, t in enumerate(texts)]
    word_info.cache_clear()
    out = {"rss_before_mb": before, "rss_loaded_mb": loaded}
    for name in ("cold", "warm"):
        start = time.perf_counter()
        for i in range(0, len(inputs), batch):
            analyzer.analyze(inputs[i:i + batch])
        out[f"{name}_posts_per_s"] = len(inputs) / (time.perf_counter() - start)
    out["rss_after_mb"] = rss_mb()
    out["lemma_cache_hit_rate"] = word_info.cache_info().hits / max(1, sum(word_info.cache_info()[:2]))
    return out


def fresh_process_rss(use_geo: bool) -> str:
    """VmRSS/VmHWM of a new interpreter that only loads the analyzer and analyses 1,000 golden posts."""
    import subprocess

    code = ("from nlp.analyzer import load_analyzer; from nlp.evaluation import read_golden;"
            "from tsur.records import AnalysisInput as A; from pathlib import Path;"
            f"a = load_analyzer(use_geo={use_geo}); t = read_golden()['text'].tolist() * 14;"
            "a.analyze([A(i, x) for i, x in enumerate(t[:1000])]);"
            "print(' '.join(l.split()[1] for l in Path('/proc/self/status').read_text().splitlines()"
            " if l.startswith(('VmRSS', 'VmHWM'))))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    rss, hwm = (int(x) / 1024 for x in out.stdout.split())
    return f"{rss:.0f} MB (peak {hwm:.0f} MB)"


def bench_natasha(texts: list[str]) -> float:
    """Posts/s of a naive per-post natasha Doc pipeline (segment, morphology, lemmas, NER)."""
    from natasha import Doc, MorphVocab, NewsEmbedding, NewsMorphTagger, NewsNERTagger, Segmenter

    segmenter, vocab, emb = Segmenter(), MorphVocab(), NewsEmbedding()
    morph, ner = NewsMorphTagger(emb), NewsNERTagger(emb)
    start = time.perf_counter()
    for text in texts:
        doc = Doc(text)
        doc.segment(segmenter)
        doc.tag_morph(morph)
        for token in doc.tokens:
            token.lemmatize(vocab)
        doc.tag_ner(ner)
    return len(texts) / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks and print one line per figure."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20000, help="posts for the analyzer runs")
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--natasha", type=int, default=1000, help="posts for the natasha baseline (0 = skip)")
    parser.add_argument("--no-geo", action="store_true", help="only the classifiers (geo off)")
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    texts = load_texts(args.n)
    mean_len = sum(map(len, texts)) / len(texts)
    print(f"texts: {len(texts)} (mean {mean_len:.0f} chars), batch {args.batch}, one core")
    for geo in ([False] if args.no_geo else [False, True]):
        r = bench_analyzer(texts, args.batch, geo)
        label = "analyzer + geo" if geo else "analyzer (classifiers + importance, geo off)"
        print(f"{label}: cold {r['cold_posts_per_s']:,.0f} posts/s, warm {r['warm_posts_per_s']:,.0f} posts/s; "
              f"RSS {r['rss_before_mb']:.0f} MB before load, {r['rss_loaded_mb']:.0f} MB loaded, "
              f"{r['rss_after_mb']:.0f} MB after; lemma cache hit rate {r['lemma_cache_hit_rate']:.0%}")
    if not args.no_geo:
        r = bench_analyzer(real_texts(args.n), args.batch, True)
        print(f"analyzer + geo on real posts of 45 regions (datasets/real_posts, news and residents' words): "
              f"cold {r['cold_posts_per_s']:,.0f} posts/s, warm {r['warm_posts_per_s']:,.0f} posts/s")
        r = bench_analyzer(crimean_texts(args.n), args.batch, True)
        print(f"analyzer + geo on Crimean posts (samples + golden tables, most name a place): "
              f"cold {r['cold_posts_per_s']:,.0f} posts/s, warm {r['warm_posts_per_s']:,.0f} posts/s")
    for geo in ([False] if args.no_geo else [False, True]):
        print(f"fresh process with the analyzer loaded{' + geo' if geo else ''}: RSS {fresh_process_rss(geo)}")
    if args.natasha:
        rate = bench_natasha(texts[: args.natasha])
        print(f"naive natasha Doc per post (segment, morph, lemmas, NER): {rate:,.0f} posts/s "
              f"(on {args.natasha} posts); RSS now {rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
