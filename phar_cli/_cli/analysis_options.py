"""The analysis options that timestamps, demo, filter and batch share: the options table
(`phar_cli.core.options`) as typer parameters, with the seed's flag names where it had them."""
from __future__ import annotations

import functools
import inspect
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Callable, Optional

import typer

from phar_cli._cli.common import STATE, Bars, err, progress_bars
from phar_cli.core.engine import EngineOptions
from phar_cli.core.options import MODEL_TITLES, MODELS, AnalysisOptions, Option, option_table
from phar_cli.core.profiles import DEFAULT_PROFILE
from phar_cli.defaults import MODEL_NAMES


@dataclass
class AnalysisArgs:
    """The shared analysis options as a command receives them: the bundle, and the table's
    options (`core/options.py`) under their library names, ready for `engine_options`."""

    bundle: Optional[Path]
    options: AnalysisOptions

    @property
    def subclip_len(self) -> float:
        return self.options["subclip_len"]


def _cli_type(kind: Any, option: Option) -> Any:
    """The type typer shows: the option's `cli` type, else the library's (`X | None` as
    Optional[X])."""
    if option.cli is not None:
        return option.cli
    args = [a for a in typing.get_args(kind) if a is not type(None)]
    return Optional[args[0]] if len(args) == 1 and len(typing.get_args(kind)) == 2 else kind


def _param(name: str, kind: Any, default: Any, help: str, panel: str, flags: tuple[str, ...] = (),
           **extra: Any) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default,
                             annotation=Annotated[kind, typer.Option(*flags, help=help,
                                                                     rich_help_panel=panel,
                                                                     **extra)])


def _params() -> list[inspect.Parameter]:
    """The table as typer parameters, in its order; per-model options as one flag a model."""
    params = []
    for name, (kind, option) in option_table().items():
        if option.library_only:
            continue
        if option.per_model:
            params += [_param(f"{model}_{name.removesuffix('s')}", Optional[Path], None,
                              option.help.format(model=MODEL_TITLES[model]), option.panel)
                       for model in MODEL_NAMES]
            continue
        kind = _cli_type(kind, option)
        default = (",".join(option.default) if isinstance(option.default, tuple)
                   else option.default)
        flags: tuple[str, ...] = ()
        if option.flag:
            flags = (f"{option.flag}/--no-{option.flag[2:]}",) if kind is bool else (option.flag,)
        bounds = {k: getattr(option, k) for k in ("min", "max") if getattr(option, k) is not None}
        params.append(_param(name, kind, default, option.help, option.panel, flags, **bounds))
    return params + [_param("bundle", Optional[Path], None, "A model bundle folder (bundle.json), "
                            "e.g. the one `phar train fusion` writes.", MODELS)]


_PARAMS = _params()


def with_analysis_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Give a command the shared analysis options; it receives them as `analysis: AnalysisArgs`."""
    names = [p.name for p in _PARAMS]
    per_model = [n for n, (_, o) in option_table().items() if o.per_model]

    @functools.wraps(func)
    def wrapper(**kwargs: Any) -> Any:
        given = {n: kwargs.pop(n) for n in names}
        bundle = given.pop("bundle")
        for name in per_model:
            given[name] = {m: given.pop(f"{m}_{name.removesuffix('s')}") for m in MODEL_NAMES}
        return func(analysis=AnalysisArgs(bundle, typing.cast(AnalysisOptions, given)), **kwargs)

    own = [p for p in inspect.signature(func, eval_str=True).parameters.values() if p.name != "analysis"]
    wrapper.__signature__ = inspect.Signature(own + _PARAMS)  # type: ignore[attr-defined]
    return wrapper


def build_options(a: AnalysisArgs) -> EngineOptions:
    """The engine's options for these flags (a bundle is named on stderr)."""
    from phar_cli.core.load import engine_options
    from phar_cli.models.bundle import load_bundle

    bundle = load_bundle(a.bundle) if a.bundle else None
    if bundle and not STATE.quiet:
        err.print(f"models: {bundle.name} ({bundle.folder})", highlight=False)
    options = engine_options(bundle, **a.options)
    if options.profile != DEFAULT_PROFILE and not STATE.quiet:
        size = f" at {options.det_size} px" if options.det_size else ""
        err.print(f"profile {options.profile}: {options.pose_backend} poses{size}, skeleton clips "
                  f"{options.skeleton_clips or 'as configured'}, RGB views "
                  f"{options.rgb_views or 'as configured'}, pose every {options.pose_every} "
                  f"frames, {options.precision}", highlight=False)
    return options


def analyse(video: Path, a: AnalysisArgs) -> Any:
    """`video` analysed with these flags, with progress bars."""
    from phar_cli.core.engine import Engine

    engine = Engine(build_options(a))
    with progress_bars() as progress:
        return engine.analyse(video, progress=Bars(progress))


def analysis_for(video: Path, from_json: Optional[Path], a: AnalysisArgs) -> Any:
    """The analysis of `video`: run, or read from --from-json (which must describe it)."""
    if from_json is None:
        return analyse(video, a)
    from phar_cli.core.load import predictions_for

    return predictions_for(video, from_json, subclip_len=a.subclip_len)
