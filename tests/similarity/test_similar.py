"""`phar similar` on a library made by hand: the order, the reasons, what is left out, looks of
two models, older catalogs, `--all`."""
from __future__ import annotations

import orjson
import pytest

import phar_cli as phar
from phar_cli.batch.catalog import Catalog
from phar_cli.similarity.search import similar, similar_all
from tests.conftest import run_phar
from tests.similarity.conftest import LIBRARY, Video, make_library

def names(result):
    return [m.relpath for m in result.matches]


def test_profiles_rank_the_same_actions_in_the_same_proportions_first(tmp_path):
    outdir = make_library(tmp_path, LIBRARY)
    query = tmp_path / "videos" / "a1.mp4"
    result = similar(query, outdir, by="profile")
    # the query and its copy are left out; the video where nothing happens has no profile
    assert names(result) == ["a2", "g2", "a3", "g1"]  # cosines 0.89, 0.67, 0.54, 0
    scores = [m.score for m in result.matches]
    assert scores == sorted(scores, reverse=True) and scores[-1] == 0.0
    assert result.matches[0].why == "alpha 50% vs 75%, beta 50% vs 25%"


def test_looks_and_both(tmp_path):
    outdir = make_library(tmp_path, LIBRARY)
    query = tmp_path / "videos" / "g1.mp4"
    by_look = similar(query, outdir, by="look", top=3)
    # ties go by path: g2 before quiet (both 0.8), a1-copy before a1 (0.0)
    assert names(by_look) == ["g2", "quiet", "a1-copy"]
    # looks are kept as float16: cosines within 2e-3
    assert by_look.matches[0].look == pytest.approx(0.8, abs=2e-3)
    assert by_look.matches[0].why.endswith("look 0.80")
    both = similar(query, outdir, top=2, weights="profile=1,look=1")
    assert names(both) == ["g2", "quiet"]
    assert both.matches[0].score == pytest.approx(0.5 * 0.5 ** 0.5 + 0.5 * 0.8, abs=2e-3)


def test_the_order_is_the_same_on_every_run_and_all_matches_each_query(tmp_path, capsys):
    outdir = make_library(tmp_path, LIBRARY)
    files = []
    for k in range(2):
        target = tmp_path / f"similar{k}.json"
        code, _, err = run_phar(["-q", "similar", "--all", "--library", outdir, "--top", "3",
                                 "-o", target], capsys)
        assert code == 0, err
        files.append(target.read_bytes())
    assert files[0] == files[1]
    data = orjson.loads(files[0])
    assert data["schema"] == "phar.similar/1" and len(data["videos"]) == len(LIBRARY)
    for entry in data["videos"]:
        one = similar(entry["path"], outdir, top=3)
        assert [m["relpath"] for m in entry["matches"]] == names(one)
        assert [m["score"] for m in entry["matches"]] == [m.score for m in one.matches]
        assert all(m["path"] != entry["path"] for m in entry["matches"])
    copies = {v["path"].rsplit("/", 1)[1]: v for v in data["videos"]}
    assert "a1-copy" not in [m["relpath"] for m in copies["a1.mp4"]["matches"]]


def test_the_cli_shows_a_table_with_the_reasons(tmp_path, capsys):
    outdir = make_library(tmp_path, LIBRARY)
    code, out, err = run_phar(["similar", tmp_path / "videos" / "a1.mp4", "--library", outdir,
                               "--top", "2"], capsys)
    assert code == 0, err
    assert "a2" in out and "alpha 50% vs 75%" in out and "look 0.80" in out
    code, out, _ = run_phar(["similar", tmp_path / "videos" / "a1.mp4", "--library", outdir,
                             "--json"], capsys)
    assert code == 0 and orjson.loads(out)["matches"][0]["relpath"] == "a2"


def test_a_predictions_file_from_outside_the_library_is_a_query(tmp_path):
    outdir = make_library(tmp_path, LIBRARY)
    other = make_library(tmp_path / "elsewhere", [Video("new", {"beta": 50, "alpha": 10},
                                                        (0.1, 1, 0))])
    result = similar(other / "new.json", outdir, top=2)
    assert names(result) == ["a3", "a2"]


def test_looks_of_two_rgb_models_are_refused_with_one_line(tmp_path, capsys):
    outdir = make_library(tmp_path, LIBRARY[:3] + [Video("b", {"alpha": 9}, (1, 0, 0),
                                                         model="b" * 16)])
    code, out, err = run_phar(["similar", tmp_path / "videos" / "a1.mp4", "--library", outdir],
                              capsys)
    assert code == 1 and not out
    assert "looks made by different RGB models" in err and "--by profile" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert names(similar(tmp_path / "videos" / "a1.mp4", outdir, by="profile")) == ["b", "a2",
                                                                                  "a3"]


def test_a_catalog_made_before_profiles_is_filled_in_from_its_predictions(tmp_path):
    outdir = make_library(tmp_path, LIBRARY, signals=False)
    result = similar(tmp_path / "videos" / "a1.mp4", outdir, by="profile")
    assert names(result) == ["a2", "g2", "a3", "g1"]  # cosines 0.89, 0.67, 0.54, 0
    assert any("7 profiles (and 7 looks) filled in" in n for n in result.notes)
    with Catalog.read(outdir) as catalog:
        assert catalog.conn.execute("SELECT count(*) FROM profiles").fetchone()[0] == 7
    assert not any("filled in" in n for n in similar(tmp_path / "videos" / "a1.mp4",
                                                     outdir).notes)


def test_videos_without_a_look_are_compared_by_profile(tmp_path):
    outdir = make_library(tmp_path, [Video("a1", {"alpha": 45, "beta": 15}, (1, 0, 0)),
                                     Video("old", {"alpha": 45, "beta": 15}),
                                     Video("far", {"alpha": 5, "beta": 55}, (1, 0, 0))])
    result = phar.similar(tmp_path / "videos" / "a1.mp4", outdir)
    assert names(result) == ["old", "far"]
    assert result.matches[0].score == 1.0 and result.matches[0].look is None
    assert any("1 of 3 videos have no look" in n for n in result.notes)


def test_bad_queries_and_libraries_are_one_line(tmp_path, capsys):
    outdir = make_library(tmp_path, LIBRARY)
    for argv, message in (
            (["similar", tmp_path / "nope.mp4", "--library", outdir], "no such file"),
            (["similar", tmp_path / "videos" / "a1.mp4", "--library", tmp_path], "not a phar batch"),
            (["similar", tmp_path / "videos" / "quiet.mp4", "--library", outdir, "--by",
              "profile"], "nothing happens in it"),
            (["similar", "--library", outdir, "--all"], "--all needs --output"),
            (["similar", tmp_path / "videos" / "a1.mp4", "--library", outdir, "--by", "colour"],
             "use both, profile, look")):
        code, _, err = run_phar(argv, capsys)
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err


def test_similar_all_in_blocks_equals_one_block(tmp_path, monkeypatch):
    import phar_cli.similarity.search as search

    outdir = make_library(tmp_path, LIBRARY)
    whole = list(similar_all(outdir, top=4))
    monkeypatch.setattr(search, "BLOCK", 2)
    blocks = list(similar_all(outdir, top=4))
    assert [[m.to_dict() for m in r.matches] for r in whole] == \
        [[m.to_dict() for m in r.matches] for r in blocks]


def test_a_video_moved_elsewhere_is_found_by_its_content(tmp_path):
    from phar_cli.batch.plan import head_tail_hash

    moved = tmp_path / "elsewhere" / "renamed.mp4"
    moved.parent.mkdir()
    moved.write_bytes(bytes(range(256)) * 40)
    library = [Video("a1", {"alpha": 45, "beta": 15}, (1, 0, 0), content=head_tail_hash(moved),
                     size=moved.stat().st_size), *LIBRARY[1:3]]
    outdir = make_library(tmp_path, library)
    assert names(similar(moved, outdir)) == ["a2", "a3"]
