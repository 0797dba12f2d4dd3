"""What counts as "changed": the file (size, mtime, first/last MiB) and what decides an analysis
(options and model files by content), not the speed settings or where the models live."""
from __future__ import annotations

import dataclasses
import random
import shutil

import orjson

from phar_cli.batch.catalog import Catalog
from phar_cli.batch.plan import analysis_identity, head_tail_hash, MIB
from phar_cli.core.engine import EngineOptions, ModelFiles
from tests.conftest import LABELS, SMALL_CONFIGS


def options(tmp_path, **changes) -> EngineOptions:
    """RGB-only options on copies of the small config (and its `_base_`) and a fake checkpoint."""
    ckpt, config = tmp_path / "rgb.pth", tmp_path / "configs" / SMALL_CONFIGS["rgb"].name
    if not ckpt.exists():
        ckpt.write_bytes(random.Random(3).randbytes(3 * MIB))
        shutil.copytree(SMALL_CONFIGS["rgb"].parent, config.parent)
    base = EngineOptions(models={"rgb": ModelFiles(config, ckpt, LABELS["rgb"])}, streams=("rgb",))
    return dataclasses.replace(base, **changes)


def test_analysis_identity_follows_results_not_speed_or_location(tmp_path):
    base = analysis_identity(options(tmp_path))[0]
    assert analysis_identity(options(tmp_path, device="cuda", batch_size=16, prefetch=0))[0] == base
    assert analysis_identity(options(tmp_path, subclip_len=5.0))[0] != base
    assert analysis_identity(options(tmp_path, weights={"rgb": 1.0}))[0] != base
    moved = tmp_path / "elsewhere" / "rgb.pth"
    moved.parent.mkdir()
    shutil.copy2(tmp_path / "rgb.pth", moved)
    opts = options(tmp_path)
    opts.models["rgb"] = dataclasses.replace(opts.models["rgb"], checkpoint=moved)
    assert analysis_identity(opts)[0] == base  # same file content elsewhere: same identity
    with open(moved, "r+b") as f:  # retrained weights, same name and size
        f.seek(5)
        f.write(b"retrained")
    assert analysis_identity(opts)[0] != base


def test_speed_options_count_only_when_they_change_scores(tmp_path):
    base, text, _ = analysis_identity(options(tmp_path))
    # At their defaults the speed options are not in the identity at all: catalogs made before
    # they existed keep their hash.
    assert not any(name in text for name in ("threads", "det_size", "det_every", "pose_every",
                                             "det_proposals", "precision"))
    assert analysis_identity(options(tmp_path, threads=1))[0] == base
    for change in ({"det_every": 4}, {"det_size": 480}, {"pose_every": 2}, {"det_proposals": 300},
                   {"precision": "bf16"}):
        assert analysis_identity(options(tmp_path, **change))[0] != base, change


def test_editing_a_base_config_changes_the_identity_too(tmp_path):
    before = analysis_identity(options(tmp_path))[0]
    base_config = tmp_path / "configs" / "timesformer.py"  # the small config's `_base_`
    base_config.write_text(base_config.read_text() + "\n# retuned\n")
    assert analysis_identity(options(tmp_path))[0] != before


def test_head_tail_hash_sees_changes_at_either_end_only(tmp_path):
    path = tmp_path / "v.bin"
    data = bytearray(random.Random(5).randbytes(5 * MIB))
    path.write_bytes(data)
    first = head_tail_hash(path)
    data[2 * MIB] ^= 1  # the middle is not read: cheap on huge files
    path.write_bytes(data)
    assert head_tail_hash(path) == first
    data[-1] ^= 1
    path.write_bytes(data)
    assert head_tail_hash(path) != first


def test_a_run_killed_mid_video_leaves_it_running_and_the_next_run_redoes_it(tmp_path):
    with Catalog.open(tmp_path) as catalog:
        [video] = catalog.plan_videos([("/v.mp4", "v", 1, 1, "h", 3.0, "pending")])
        run = catalog.start_run("local", 1, 1, 0)
        catalog.begin(video, run, "analyse")
    # ... the process died here; a new run recovers before planning
    with Catalog.open(tmp_path) as catalog:
        assert catalog.recover() == 1
        assert catalog.videos()["/v.mp4"].status == "pending"
        rows = catalog.conn.execute("SELECT status FROM runs UNION ALL SELECT status FROM analyses")
        assert sorted(r[0] for r in rows) == ["abandoned", "killed"]


def test_only_one_run_at_a_time_per_output_folder(tmp_path):
    import pytest

    from phar_cli.batch.catalog import CatalogError

    with Catalog.open(tmp_path):
        with pytest.raises(CatalogError, match="another phar batch"):
            Catalog.open(tmp_path)
    Catalog.open(tmp_path).close()  # free again once the first is closed


def test_the_batch_library_imports_no_cli_toolkit_and_no_models():
    """The driver side is plain Python: progress is a callback, models load in the workers."""
    import subprocess
    import sys

    code = ("import sys, phar_cli.batch.runner, phar_cli.batch.report, phar_cli.batch.executors; "
            "print(sorted(m for m in ('typer', 'rich', 'torch', 'mmaction', 'ray') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_options_added_later_count_only_away_from_what_came_before(tmp_path):
    from phar_cli.core.engine import LEGACY_VALUES

    before = analysis_identity(options(tmp_path, **LEGACY_VALUES))[1]
    for name in LEGACY_VALUES:  # at the values that reproduce older analyses: not in the identity
        assert f'"{name}"' not in before
    now, text, _ = analysis_identity(options(tmp_path))  # today's defaults: known rule, refined
    assert '"fusion_rule":"known"' in text and '"refine":true' in text
    assert analysis_identity(options(tmp_path, resolution=0.5))[0] != now
    assert analysis_identity(options(tmp_path, temperatures={"fused": 0.7}))[0] != now
    assert analysis_identity(options(tmp_path, stride=1.0))[0] != now


def test_the_content_stream_and_its_thresholds_count_only_when_it_runs(tmp_path):
    base, text, _ = analysis_identity(options(tmp_path))
    assert "content" not in text  # off: a catalog made before the content stream keeps its hash
    assert analysis_identity(options(tmp_path, content_low=0.1))[0] == base  # off: no effect
    on, on_text, _ = analysis_identity(options(tmp_path, content=True))
    assert on != base
    recorded = orjson.loads(on_text)
    assert recorded["content"] is True
    assert {k: recorded[k] for k in ("content_high", "content_low", "content_fps",
                                     "content_min_free", "content_overrides",
                                     "content_gate")} == {
        "content_high": 0.8, "content_low": 0.2, "content_fps": 1.0, "content_min_free": 3.0,
        "content_overrides": "unsure", "content_gate": False}
    assert analysis_identity(options(tmp_path, content=True, content_low=0.1))[0] != on
    assert analysis_identity(options(tmp_path, content=True, content_gate=True))[0] != on
