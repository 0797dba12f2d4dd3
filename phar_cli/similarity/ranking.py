"""The arithmetic of similarity: cosines as matrix products, and each row's best columns in a
stable order. Pure numpy (torch's top-k where rows are long); nothing here knows files.

Scores are compared rounded to 1e-6, so two equal vectors tie whatever order the BLAS summed
in, and ties go to the lower column (the library is sorted by path: the order is the same on
every run).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

DIGITS = 6
EXCLUDED = -np.inf   # a column a row may not pick (no such signal, or the query itself)


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    """Rows over their length (float32); zero rows stay zero."""
    matrix = np.asarray(matrix, np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)


def mixed(profile: np.ndarray, look: np.ndarray, both: np.ndarray,
          weights: tuple[float, float]) -> np.ndarray:
    """Scores from profile cosines and look cosines: the weighted sum where `both` (rows x
    columns, bool) says both videos have a look, the profile's cosine alone elsewhere."""
    wp, wl = weights
    result = look * np.float32(wl)
    result += np.float32(wp) * profile
    np.copyto(result, profile, where=~both)
    return result


def best(scores: np.ndarray, k: int, excluded: Sequence[np.ndarray] | None = None,
         ) -> list[list[tuple[int, float]]]:
    """Each row's `k` best columns as (column, score rounded), by score then column, leaving out
    the row's `excluded` columns and columns scored `EXCLUDED`."""
    rows, n = scores.shape
    excluded = excluded if excluded is not None else [np.empty(0, np.int64)] * rows
    extra = max((len(e) for e in excluded), default=0)
    m = min(n, k + extra + 1)   # one more than can be needed: the sentinel of a tie at the cut
    if m == 0 or k <= 0:
        return [[] for _ in range(rows)]
    if m < n:
        import torch

        values, columns = torch.topk(torch.from_numpy(np.ascontiguousarray(scores)), m, dim=1)
        values, columns = values.numpy(), columns.numpy()
    else:
        columns = np.broadcast_to(np.arange(n), (rows, n))
        values = scores
    out = []
    for r in range(rows):
        v = np.round(values[r].astype(np.float64), DIGITS)
        c = np.asarray(columns[r])
        keep = np.isfinite(v) & ~np.isin(c, excluded[r])
        v, c = v[keep], c[keep]
        order = np.lexsort((c, -v))
        v, c = v[order], c[order]
        if m < n and len(v) >= k and v.min() >= v[k - 1]:
            # the cut falls in a tie that may reach past the candidates: the whole row decides
            v, c = _exact(scores[r], v[k - 1], excluded[r])
        out.append([(int(col), float(val)) for col, val in zip(c[:k], v[:k])])
    return out


def _exact(row: np.ndarray, floor: float, excluded: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rounded = np.round(row.astype(np.float64), DIGITS)
    c = np.flatnonzero(np.isfinite(rounded) & (rounded >= floor))
    c = c[~np.isin(c, excluded)]
    v = rounded[c]
    order = np.lexsort((c, -v))
    return v[order], c[order]
