#!/usr/bin/env python
"""How right is `phar similar --by profile` on held-out synthetic compositions? A library of
random compositions (`bench_precision.classic_composition`: parts of 8-20 s off the 7 s grid,
stretches of nothing, seeds no test uses) analysed by `phar batch` with one bundle; each video
is a query, and its ranking is compared with the truth: the cosine of the parts' shares of action time
(Spearman's rank correlation over the other videos, ties given their mean rank).

    python scripts/bench_similar_truth.py --bundle phar-out/synthetic-demo-bundle
    python scripts/bench_similar_truth.py --bundle B --videos 16 --seed 7100 --json out.json

Where a query's figure is low, its analysis (printed: the profile phar measured against the
parts) says whether the models or the ranking are at fault.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_precision import classic_composition  # noqa: E402


def truth_shares(parts: list[tuple[str | None, float]]) -> dict[str, float]:
    """Each label's share of a composition's action time (nothing left out)."""
    seconds: dict[str, float] = {}
    for label, s in parts:
        if label is not None:
            seconds[label] = seconds.get(label, 0.0) + s
    total = sum(seconds.values())
    return {label: s / total for label, s in seconds.items()}


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    dot = sum(a[k] * b.get(k, 0.0) for k in a)
    return dot / (np.linalg.norm(list(a.values())) * np.linalg.norm(list(b.values())))


def spearman(x: list[float], y: list[float]) -> float:
    """Spearman's rank correlation, ties given their mean rank."""
    def ranks(v: list[float]) -> np.ndarray:
        v = np.asarray(v)
        r = np.empty(len(v))
        r[v.argsort(kind="stable")] = np.arange(len(v))
        for value in np.unique(v):
            r[v == value] = r[v == value].mean()
        return r
    return float(np.corrcoef(ranks(x), ranks(y))[0, 1])


def phar(*argv: object) -> str:
    return subprocess.run([sys.executable, "-m", "phar_cli.cli", *map(str, argv)], check=True,
                          capture_output=True, text=True).stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", required=True, help="the model bundle to analyse with")
    parser.add_argument("--videos", type=int, default=12)
    parser.add_argument("--seconds", type=float, default=24.0, help="each composition's length")
    parser.add_argument("--seed", type=int, default=7100)
    parser.add_argument("--work", type=Path, help="keep the videos and analyses here")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args()

    from phar_cli.synthetic.dataset import make_composed_video

    work = args.work or Path(tempfile.mkdtemp(prefix="phar-similar-truth-"))
    library = work / "library"
    library.mkdir(parents=True, exist_ok=True)
    truth: dict[str, list[tuple[str | None, float]]] = {}
    for k in range(args.videos):
        seed = args.seed + k
        parts = classic_composition(np.random.default_rng(seed), args.seconds)
        truth[f"c{seed}"] = parts
        make_composed_video(library / f"c{seed}.mp4", parts, seed=seed)
    outdir = work / "out"
    phar("-q", "batch", library, "-o", outdir, "--bundle", args.bundle, "--device", "cpu")
    rows = []
    for name, parts in truth.items():
        result = json.loads(phar("similar", library / f"{name}.mp4", "--library", outdir,
                                 "--by", "profile", "--top", args.videos, "--json"))
        matches = result["matches"]
        mine = truth_shares(parts)
        expected = [cosine(mine, truth_shares(truth[m["relpath"]])) for m in matches]
        rho = spearman(expected, [m["score"] for m in matches]) if len(matches) > 2 else None
        measured = json.loads((outdir / f"{name}.json").read_bytes())["profile"]["labels"]
        rows.append({"video": name, "spearman": rho,
                     "truth": {k: round(v, 3) for k, v in sorted(mine.items())},
                     "measured": {x["label"]: round(x["share"], 3) for x in measured}})
        print(f"{name}  spearman {rho:.3f}  truth {rows[-1]['truth']}  "
              f"measured {rows[-1]['measured']}")
    values = [r["spearman"] for r in rows if r["spearman"] is not None]
    figures = {"videos": args.videos, "seed": args.seed, "bundle": args.bundle,
               "median": round(float(np.median(values)), 3), "worst": round(min(values), 3),
               "at_least_0.9": sum(v >= 0.9 for v in values), "queries": len(values),
               "rows": rows}
    print(f"median {figures['median']}, worst {figures['worst']}, "
          f"{figures['at_least_0.9']} of {figures['queries']} queries at 0.9 or more")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
