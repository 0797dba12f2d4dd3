"""The analysis options table (`core/options.py`): everything that lists an option comes from it
or agrees with it, and the fast profile's presets are made for the device that runs them."""
from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path

import pytest
import typer.main

from phar_cli.cli import app
from phar_cli.core.engine import EngineOptions
from phar_cli.core.gates import GateOptions
from phar_cli.core.load import engine_options, for_device
from phar_cli.core.options import (AnalysisOptions, defaults, flag, markdown_table, option_table,
                                   options)
from phar_cli.defaults import MODEL_NAMES
from phar_cli.media.audio import AUDIO_FEATURES
from phar_cli.models.registry import load_manifest

from tests.conftest import LABELS, SMALL_CONFIGS

ROOT = Path(__file__).resolve().parents[2]
# EngineOptions fields that are not options but what `engine_options` resolves them into.
RESOLVED = {"models", "weights", "gates", "temperatures", "background", "from_profile"}


def analysis_flags(command: str) -> set[str]:
    click_command = typer.main.get_command(app).commands[command]  # type: ignore[attr-defined]
    return {o for p in click_command.params for o in (*p.opts, *p.secondary_opts)}


def table_flags() -> set[str]:
    found = set()
    for name, option in options().items():
        if option.library_only:
            continue
        if option.per_model:
            found |= {f"--{m}-{name.removesuffix('s')}" for m in MODEL_NAMES}
        else:
            found.add(flag(name))
    return found | {"--bundle"}


@pytest.mark.parametrize("command", ["timestamps", "demo", "filter", "batch"])
def test_every_analysis_command_has_the_table_s_flags(command):
    assert table_flags() <= analysis_flags(command)


def test_the_seed_s_flag_names_are_kept():
    flags = analysis_flags("timestamps")
    for seed_flag in ("--coefficients", "--num-processes", "--loudness-weights", "--pose-model",
                      "--calibration", "--no-calibration", "--subclip-len", "--rgb-checkpoint",
                      "--pose-config", "--label-maps", "--pose-score-thr", "--correct-rate"):
        assert seed_flag in flags


def test_every_engine_option_is_in_the_table_or_resolved_from_it():
    engine = {f.name for f in dataclasses.fields(EngineOptions)}
    gates = {f.name for f in dataclasses.fields(GateOptions)} - {"loudness_thr",
                                                                  "per_class_loudness"}
    assert engine - RESOLVED <= set(option_table())
    assert gates <= set(option_table())


def test_engine_options_take_their_defaults_from_the_table():
    fields = {f.name: f for f in dataclasses.fields(EngineOptions)}
    for name, default in defaults().items():
        if default is not None and name in fields:
            assert fields[name].default == default, name
    for name in ("pose_score_thr", "correct_rate", "skeleton_topk", "audio_topk"):
        assert getattr(GateOptions(), name) == defaults()[name]


def test_every_option_has_help_and_a_type():
    for name, (kind, option) in option_table().items():
        assert option.help.strip().endswith((".", ")")), name
        assert kind is not None
    assert set(AnalysisOptions.__annotations__) == set(option_table())


def test_the_readme_lists_the_table():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    spec = importlib.util.spec_from_file_location("options_table", ROOT / "scripts/options_table.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert markdown_table() in readme and script.with_table(readme) == readme, \
        "README.md's option list is stale: run python scripts/options_table.py --write"


def test_an_unknown_option_is_a_type_error():
    with pytest.raises(TypeError, match="subclip"):
        engine_options(None, subclip=7)  # type: ignore[call-arg]


def test_the_shipped_audio_configs_use_the_feature_settings_phar_computes():
    from mmengine import Config

    for config in (load_manifest()["audio"].config_path, SMALL_CONFIGS["audio"]):
        features = Config.fromfile(str(config)).get("audio_features")
        assert features is None or dict(features) == AUDIO_FEATURES, config


# --- the profile's presets, per device ----------------------------------------------------------

@pytest.fixture
def files(tmp_path):
    """Model files for the three streams and RTMO-s (the options are only resolved, never run)."""
    names = ("rgb", "skeleton", "audio", "rtmo-s")
    for name in names:
        (tmp_path / f"{name}.pth").write_bytes(b"not loaded")
    return dict(configs={n: SMALL_CONFIGS.get(n, SMALL_CONFIGS["rgb"]) for n in names},
                checkpoints={n: tmp_path / f"{n}.pth" for n in names},
                label_maps={n: LABELS[n] for n in ("rgb", "skeleton", "audio")})


@pytest.fixture
def fake_gpu(monkeypatch):
    """torch says it has one CUDA device (nothing is run on it)."""
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)


def test_the_fast_profile_fills_only_what_was_not_given(files):
    options = engine_options(None, device="cpu", profile="fast", pose_backend="markers",
                             skeleton_clips=3, **files)
    assert options.skeleton_clips == 3 and options.pose_backend == "markers"
    assert "skeleton_clips" not in options.from_profile and "rgb_views" in options.from_profile
    assert options.rgb_views == 1 and options.pose_every == 2
    assert options.content_gate and "content_gate" in options.from_profile
    assert not engine_options(None, device="cpu", profile="fast", content_gate=False,
                              **files).content_gate
    assert not engine_options(None, device="cpu", streams="rgb,audio",
                              **files).content_gate  # the reference profile


def test_for_device_makes_the_gpu_presets_from_cpu_checked_options(fake_gpu, files):
    on_cpu = engine_options(None, device="cpu", profile="fast", **files)
    assert on_cpu.pose_backend == "rtmo-s" and on_cpu.det_size == 320
    on_gpu = for_device(on_cpu, "cuda")
    assert on_gpu.device == "cuda" and on_gpu.det_size is None and on_gpu.precision == "bf16"
    assert on_gpu.pose_backend == "rtmo-s" and on_gpu.models == on_cpu.models
    given = engine_options(None, device="cpu", profile="fast", det_size=480, precision="fp32",
                           **files)
    kept = for_device(given, "cuda")
    assert kept.det_size == 480 and kept.precision == "fp32"  # what the user gave stays
    reference = engine_options(None, device="cpu", streams="rgb,audio", **files)
    assert for_device(reference, "cuda") is reference


def test_a_ray_worker_with_a_gpu_gets_the_gpu_presets(fake_gpu, files, monkeypatch):
    """`phar batch --executor ray` checks the options on the driver's CPU; the worker on a GPU
    must run RTMO at its trained size with bf16, not the CPU's 320 px in fp32."""
    from phar_cli.batch import worker as worker_module

    built = []

    class FakeEngine:
        def __init__(self, options):
            built.append(options)

        def load(self):
            return self

    driver = engine_options(None, device="cpu", profile="fast", **files)
    setup = worker_module.WorkerSetup(dataclasses.replace(driver, device="auto"))
    monkeypatch.setattr(worker_module, "Engine", FakeEngine)
    worker_module.Worker(setup)._build()
    assert built[-1].det_size is None and built[-1].precision == "bf16"
    worker_module.Worker(setup, device="cpu")._build()
    assert built[-1].det_size == 320 and built[-1].precision == driver.precision
