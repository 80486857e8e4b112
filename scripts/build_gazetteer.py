"""Build config/regions/<region>/ (places.csv, names.csv, meta.json) from public settlement lists.

Example:
    python scripts/build_gazetteer.py ../shared/data/crimea_gazetteer --region crimea

The input folder follows the CSV contract in config/regions/README.md; the curated
config/regions/<region>/aliases.csv is read from the output folder. Output is deterministic:
re-running on the same inputs and pymorphy3 dictionaries gives identical bytes.
"""
from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nlp.geo.build import build, write_config  # noqa: E402
from nlp.geo.errors import GazetteerError  # noqa: E402


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line arguments."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path, help="folder with municipalities.csv and settlements.csv")
    parser.add_argument("--region", default="crimea", help="region folder name under config/regions")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default config/regions/REGION)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Build one region's gazetteer config; a bad input prints one line and exits 2."""
    args = parse_args(argv)
    out = args.out or ROOT / "config" / "regions" / args.region
    try:
        stats: Counter = Counter()
        places, names = build(args.source, out / "aliases.csv", stats)
    except GazetteerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    write_config(places, names, out, args.region, stats)
    print(f"{out}: {len(places)} places, {len(names)} names; demonym/adjective keys: "
          + ", ".join(f"{n} {what}" for what, n in sorted(stats.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
