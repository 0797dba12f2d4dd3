"""The arithmetic of `phar similar`: best columns in a stable order, exclusions, ties, weights,
reasons."""
from __future__ import annotations

import numpy as np
import pytest

from phar_cli.core.action_profile import profile
from phar_cli.errors import InvalidOption
from phar_cli.similarity.ranking import EXCLUDED, best, mixed, unit_rows
from phar_cli.similarity.search import parse_weights, why


def test_best_orders_by_score_then_column_and_leaves_out_what_it_must():
    scores = np.array([[0.2, 0.9, 0.9, EXCLUDED, 0.5, 0.9]], np.float32)
    assert best(scores, 3)[0] == [(1, pytest.approx(0.9)), (2, pytest.approx(0.9)),
                                  (5, pytest.approx(0.9))]
    assert [c for c, _ in best(scores, 3, [np.array([2])])[0]] == [1, 5, 4]
    assert [c for c, _ in best(scores, 10)[0]] == [1, 2, 5, 4, 0]  # never the excluded column


def test_a_tie_at_the_cut_that_reaches_past_the_candidates_goes_to_the_lower_columns():
    # 40 equal scores and k = 3: whatever top-k returns, the lowest columns win
    row = np.full((1, 50), 0.25, np.float32)
    row[0, 45] = 0.7
    row[0, :5] = 0.1
    assert [c for c, _ in best(row, 3)[0]] == [45, 5, 6]
    assert [c for c, _ in best(row, 3, [np.array([5, 45])])[0]] == [6, 7, 8]


def test_scores_equal_to_1e_6_tie_whatever_the_summation_order():
    scores = np.array([[0.5 + 4e-8, 0.5, 0.5 - 4e-8]], np.float32)
    assert [c for c, _ in best(scores, 3)[0]] == [0, 1, 2]
    assert [c for c, _ in best(scores[:, ::-1].copy(), 3)[0]] == [0, 1, 2]


def test_best_is_the_same_row_by_row_and_in_a_block():
    rng = np.random.default_rng(3)
    block = rng.random((20, 300)).astype(np.float32)
    assert best(block, 5) == [best(block[r:r + 1], 5)[0] for r in range(20)]
    for r, picked in enumerate(best(block, 5)):
        assert [c for c, _ in picked] == list(np.argsort(-block[r], kind="stable")[:5])


def test_unit_rows_keep_zero_rows_zero():
    rows = unit_rows(np.array([[3.0, 4.0], [0.0, 0.0]]))
    assert np.allclose(rows, [[0.6, 0.8], [0.0, 0.0]]) and rows.dtype == np.float32


def test_mixed_weighs_where_both_have_a_look_and_keeps_the_profile_elsewhere():
    profile_ = np.array([[1.0, 0.5]], np.float32)
    look = np.array([[0.0, 0.2]], np.float32)
    both = np.array([[True, False]])
    assert mixed(profile_, look, both, (0.5, 0.5)).tolist() == [[0.5, 0.5]]


def test_weights_are_parsed_and_normalised():
    assert parse_weights(None) == {"profile": 0.5, "look": 0.5}
    assert parse_weights("profile=3,look=1") == {"profile": 0.75, "look": 0.25}
    assert parse_weights("look=2") == {"profile": 0.0, "look": 1.0}
    for bad in ("colour=1", "profile=x", "profile=0,look=0", "profile=-1,look=2"):
        with pytest.raises(InvalidOption):
            parse_weights(bad)


def test_the_reason_names_the_labels_that_weigh_most_with_both_shares():
    query = profile(60, {"alpha": 30, "beta": 20, "gamma": 1})
    other = profile(40, {"alpha": 10, "delta": 30})
    assert why(query, other, 0.834) == "delta 75% vs 0%, alpha 25% vs 59%, beta 0% vs 39%, look 0.83"
    assert why(query, profile(40, {}), None).endswith("nothing happens in it")
