"""How `phar similar` scales: one query and every video's top 10 over a library of synthetic
vectors (profiles over the seed's 17 labels, 768-dim looks as TimeSformer's), exact search in
numpy, and the memory it takes.

    python scripts/bench_similar.py                       # 100,000 videos, --by both
    python scripts/bench_similar.py --videos 20000 --by profile --catalog

Side by side in one run: blocked all-pairs (`similar_all`) against one `similar` call per
video on the first --subset videos (the results compared), as a ratio. `--catalog` also
writes the library into a batch catalog and times `load_library` reading it back.
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from phar_cli.core.action_profile import profile  # noqa: E402
from phar_cli.similarity.library import Entry, Library  # noqa: E402
from phar_cli.similarity.ranking import best, unit_rows  # noqa: E402
from phar_cli.similarity.search import Scorer, parse_weights, similar, similar_all  # noqa: E402

LABELS = [f"label{k:02d}" for k in range(17)]
DIMS = 768
MODEL = "0123456789abcdef"


def synthetic_library(n: int, seed: int) -> Library:
    """n videos: each 1-4 labels with Dirichlet shares, a look near one of 50 'styles'."""
    rng = np.random.default_rng(seed)
    entries, shares = [], np.zeros((n, len(LABELS)), np.float32)
    for i in range(n):
        k = int(rng.integers(1, 5))
        labels = rng.choice(len(LABELS), k, replace=False)
        mix = rng.dirichlet(np.ones(k))
        seconds = {LABELS[j]: float(600 * m) for j, m in zip(labels, mix)}
        entries.append(Entry(f"/library/{i:06d}.mp4", f"{i:06d}", f"hash{i}", 10**9 + i,
                             profile(900.0, seconds), MODEL))
        shares[i, labels] = mix
    styles = rng.standard_normal((50, DIMS)).astype(np.float32)
    looks = styles[rng.integers(0, 50, n)] + 0.5 * rng.standard_normal((n, DIMS), np.float32)
    looks = unit_rows(unit_rows(looks).astype(np.float16))  # as the catalog keeps them
    return Library(Path("/library-out"), entries, LABELS, unit_rows(shares), {MODEL: looks})


def one_query_ms(lib: Library, by: str, queries: int, rng: np.random.Generator) -> list[float]:
    scorer = Scorer(lib, by, parse_weights(None))
    times = []
    for i in rng.integers(0, len(lib), queries):
        start = time.perf_counter()
        looks = scorer.looks[i:i + 1] if scorer.looks is not None else None
        has = scorer.has_look[i:i + 1] if scorer.has_look is not None else np.zeros(1, bool)
        scores, _, _ = scorer.scores(lib.shares[i:i + 1], looks, has)
        best(scores, 10, [np.array([i])])
        times.append((time.perf_counter() - start) * 1000)
    return times


def catalog_load_seconds(lib: Library) -> float:
    from phar_cli.batch.catalog import Catalog
    from phar_cli.core.look import Look
    from phar_cli.similarity.library import load_library

    with tempfile.TemporaryDirectory() as tmp:
        outdir = Path(tmp)
        with Catalog.open(outdir) as catalog:
            ids = catalog.plan_videos([(e.path, e.relpath, e.size, 1, e.content, 900.0, "pending")
                                       for e in lib.entries])
            run = catalog.start_run("bench", 1, len(ids), 0)
            looks = lib.look_vectors[MODEL]
            for k, (i, e) in enumerate(zip(ids, lib.entries)):
                vector = looks[k].astype(np.float16)
                catalog.done(i, catalog.begin(i, run, "analyse"), analysis_hash="b",
                             outputs_hash="b", models={}, outputs=[], duration=900.0, windows=1,
                             seconds=None, worker=None, segments=[], tags=[],
                             profile=e.profile, look=Look(MODEL, (), vector[:0], vector, "all"))
        start = time.perf_counter()
        loaded = load_library(outdir)
        seconds = time.perf_counter() - start
        assert len(loaded) == len(lib)
        return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--videos", type=int, default=100_000)
    parser.add_argument("--by", default="both", choices=("both", "profile", "look"))
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--subset", type=int, default=2000,
                        help="videos searched one by one, against the blocked all-pairs")
    parser.add_argument("--catalog", action="store_true",
                        help="also time reading the library back from a batch catalog")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args()

    t = time.perf_counter()
    lib = synthetic_library(args.videos, args.seed)
    made = time.perf_counter() - t
    matrix_mib = (lib.shares.nbytes + sum(v.nbytes for v in lib.look_vectors.values())) / 2**20
    rng = np.random.default_rng(args.seed + 1)
    one_query_ms(lib, args.by, 3, rng)  # warm up BLAS
    query = one_query_ms(lib, args.by, args.queries, rng)

    # side by side: one search per video against the blocked all-pairs, on the subset
    sub = Library(lib.outdir, lib.entries[:args.subset], lib.labels, lib.shares[:args.subset],
                  {m: v[:args.subset] for m, v in lib.look_vectors.items()})
    t = time.perf_counter()
    blocked = list(similar_all(sub, top=args.top, by=args.by))
    blocked_s = time.perf_counter() - t
    t = time.perf_counter()
    single = [similar(e.path, sub, top=args.top, by=args.by) for e in sub.entries]
    single_s = time.perf_counter() - t
    # one row against a block: BLAS sums in another order, so scores may differ by ~1e-7
    differ = sum([m.path for m in a.matches] != [m.path for m in b.matches]
                 or not np.allclose([m.score for m in a.matches], [m.score for m in b.matches],
                                    atol=1e-5) for a, b in zip(single, blocked))

    t = time.perf_counter()
    everything = sum(1 for _ in similar_all(lib, top=args.top, by=args.by))
    all_s = time.perf_counter() - t
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    load_s = catalog_load_seconds(lib) if args.catalog else None

    figures = {
        "videos": args.videos, "by": args.by, "top": args.top, "dims": DIMS,
        "labels": len(LABELS), "library_made_s": round(made, 2),
        "matrices_mib": round(matrix_mib, 1),
        "one_query_ms_median": round(float(np.median(query)), 2),
        "one_query_ms_p95": round(float(np.percentile(query, 95)), 2),
        "all_pairs_s": round(all_s, 1), "all_pairs_results": everything,
        "subset": args.subset, "subset_blocked_s": round(blocked_s, 2),
        "subset_one_by_one_s": round(single_s, 2),
        "blocked_vs_one_by_one": round(single_s / blocked_s, 2),
        "subset_rows_that_differ": differ,
        "peak_rss_mib": round(peak_mib, 1),
        "catalog_load_s": round(load_s, 2) if load_s is not None else None,
    }
    for name, value in figures.items():
        print(f"{name:24} {value}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
