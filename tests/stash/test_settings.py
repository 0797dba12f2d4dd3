"""Per-label settings from CSV and TOML, their defaults from `phar filter` and `phar tags`, and
one clear line for a file phar cannot use."""
from __future__ import annotations

import pytest

from phar_cli.stash.settings import LabelRule, SettingsError, StashSettings, load_settings


def test_defaults_are_the_filter_and_tags_rules():
    s = StashSettings()
    assert s.rule("kissing") == LabelRule(tag="kissing", markers=True, scene_tag=True,
                                          min_marker_seconds=0.0, max_gap=0.0,
                                          min_scene_seconds=0.0, threshold=0.5)
    assert s.scene_tags_topk == 3
    for label in ("other", "miscellaneous", "non-sexual"):   # phar filter's non-sexual labels
        assert not s.rule(label).markers and not s.rule(label).scene_tag
    assert not s.rule("background").markers and not s.rule("background").scene_tag
    assert (s.parent_tag, s.status, s.incorrect) == ("phar", "phar: analysed", "phar: incorrect")


def test_csv_rows_override_only_the_cells_they_fill(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("label,tag,markers,scene_tag,min_marker_seconds,max_gap,min_scene_seconds,threshold\n"
                    "*,,,,,,,0.6\n"
                    "kissing,Kissing,,no,5,7,,\n"
                    "other,Other stuff,yes,,,,,\n"
                    "Face_Sitting,Face sitting,,,,,30,0.8\n")
    s = load_settings(path)
    assert s.rule("kissing") == LabelRule("Kissing", True, False, 5.0, 7.0, 0.0, 0.6)
    assert s.rule("other") == LabelRule("Other stuff", True, False, 0.0, 0.0, 0.0, 0.6)
    assert s.rule("face-sitting") == LabelRule("Face sitting", True, True, 0.0, 0.0, 30.0, 0.8)
    assert s.rule("doggy") == LabelRule("doggy", threshold=0.6)


def test_toml_has_the_rules_and_the_tag_names(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('parent_tag = "AI"\nnegative_label = "background"\nscene_tags_topk = 0\n'
                    "[defaults]\nmin_marker_seconds = 3\n"
                    '[labels.kissing]\ntag = "Kissing"\nthreshold = 0.7\nmarkers = false\n')
    s = load_settings(path)
    assert (s.parent_tag, s.status, s.incorrect) == ("AI", "AI: analysed", "AI: incorrect")
    assert s.negative_label == "background" and s.scene_tags_topk == 0
    assert s.rule("kissing") == LabelRule("Kissing", False, True, 3.0, 0.0, 0.0, 0.7)
    assert s.rule("doggy").min_marker_seconds == 3.0


@pytest.mark.parametrize("name,text,message", [
    ("s.csv", "label,colour\nkissing,red\n", "s.csv: unknown column colour"),
    ("s.csv", "tag\nKissing\n", "s.csv: the header must name a 'label' column"),
    ("s.csv", "label,threshold\nkissing,high\n", "s.csv:2: threshold must be a number, not 'high'"),
    ("s.csv", "label,markers\nkissing,maybe\n", "s.csv:2: markers must be true or false"),
    ("s.csv", "label,threshold\nkissing,1.5\n", "s.csv:2: threshold must be between 0 and 1"),
    ("s.csv", "label\nkissing\nKissing\n", "s.csv:3: label Kissing is listed twice"),
    ("s.csv", "label,markers\nbackground,true\n", "label background never becomes a marker"),
    ("s.toml", "[labels.kissing]\nmax_gap = -1\n", "[labels.kissing]: max_gap must be a number >= 0"),
    ("s.toml", "[defaults]\ntag = 'x'\n", "[defaults]: tag names one label's tag"),
    ("s.toml", "colour = 'red'\n", "s.toml: unknown setting colour"),
    ("s.toml", "[labels\n", "s.toml: not a TOML file"),
    ("s.yaml", "a: 1\n", "s.yaml: settings must be a .csv or a .toml file"),
])
def test_a_bad_file_is_one_line_naming_it(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(SettingsError) as info:
        load_settings(path)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_two_labels_on_one_tag_are_refused(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("label,tag\nkissing,Love\nfondling,love\n")
    with pytest.raises(SettingsError, match="labels kissing and fondling both use tag 'love'"):
        load_settings(path).tags(["kissing", "fondling"])
    path.write_text("label,tag\nkissing,phar: analysed\n")
    with pytest.raises(SettingsError, match="one of phar's own tags"):
        load_settings(path).tags(["kissing"])
