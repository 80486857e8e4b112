"""Train the shipped NLP models reproducibly and (optionally) promote them.

Data: ../shared/data (spb, sentirueval, cedr, hackathon/Omsk/ПОС topic names, the texts of the Chuvashia and
Troitsk labels), datasets/ (hand-labelled sets) and config/topics/*; see nlp/data.py. Fixed seeds (nlp.training.SEED, split by time and key hash), so the same data gives the same model.

Example:
    .venv/bin/python scripts/train_models.py --validate   # score the current parameters on the validation part
    .venv/bin/python scripts/train_models.py --promote
    .venv/bin/python scripts/train_models.py --select --param topic_c=2 --param 'source_weights={"spb": 0.5}'
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nlp import registry  # noqa: E402
from nlp.metrics import summary_line  # noqa: E402
from nlp.training import Params, load_rows, select, train, validate  # noqa: E402


def with_overrides(params: Params, pairs: list[str], parser: argparse.ArgumentParser) -> Params:
    """Params with NAME=VALUE overrides (VALUE is JSON; a dict is merged into the default dict)."""
    changes = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        if not hasattr(params, name):
            parser.error(f"--param {name}: no such parameter (see nlp.training.Params)")
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            parser.error(f"--param {name}: {value!r} is not JSON")
        current = getattr(params, name)
        changes[name] = {**current, **parsed} if isinstance(current, dict) and isinstance(parsed, dict) else parsed
    return replace(params, **changes)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, train, print the held-out summary, promote if asked."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data", help="../shared/data folder")
    parser.add_argument("--models-dir", type=Path, default=None, help="models root (default: repo models/)")
    parser.add_argument("--sample", type=int, default=None, help="rows per source (quick runs)")
    parser.add_argument("--version", default=None, help="version name (default: YYYY.MM.DD-N)")
    parser.add_argument("--promote", action="store_true", help="make the new version active")
    parser.add_argument("--validate", action="store_true",
                        help="only fit on the training period minus its latest 15 %% and score that 15 %% (saves nothing)")
    parser.add_argument("--select", action="store_true",
                        help="only print the parameter-selection scores on the train parts (nlp.training.select)")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="override a nlp.training.Params field (JSON value; dicts are merged)")
    args = parser.parse_args(argv)
    params = with_overrides(Params(), args.param, parser)
    if not args.shared.is_dir():
        parser.error(f"{args.shared} is not a folder")
    if args.select:
        rows, _ = load_rows(args.shared, sample=args.sample, progress=lambda msg: print(msg, flush=True))
        for name, scores in select(rows, params, progress=lambda msg: print(msg, flush=True)).items():
            print(f"select {name}: {json.dumps(scores, ensure_ascii=False)}", flush=True)
        return 0
    if args.validate:
        scores = validate(args.shared, sample=args.sample, progress=lambda msg: print(msg, flush=True), params=params)
        print(f"validation: {summary_line(scores)}")
        return 0
    card = train(args.shared, models_dir=args.models_dir, sample=args.sample, version=args.version,
                 progress=lambda msg: print(msg, flush=True), params=params)
    print(f"{card.version}: {summary_line(card.metrics)}")
    if args.promote:
        print(f"active: {registry.promote(card.version, args.models_dir)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
