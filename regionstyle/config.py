"""THE schema of every transfer setting: name, type, range or choices, default, help, where it can be set.

Everything else is derived from :data:`SETTINGS`:
- :class:`TransferConfig`, the frozen dataclass the stages read;
- the ``[defaults]`` keys of a rules file (and the keys a single ``[[rule]]`` may set), handed to
  maskrules as :class:`maskrules.SettingRule` objects (:func:`rules_settings`);
- the command-line options of ``apply`` and ``batch`` (``regionstyle.cli.options``);
- the keywords of ``regionstyle.stylize`` and ``stylize_many`` (:func:`check_keywords`).

A value is checked by the same function wherever it comes from (maskrules' checkers), so a bad one gets
the same words everywhere, before any model loads. Precedence: an explicit option (command line, API
keyword) beats the rules' ``[defaults]``, which beat the schema's default.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, make_dataclass, replace
from pathlib import Path
from typing import Any, Mapping

import maskrules
from maskrules import SettingRule
from maskrules.names import did_you_mean
from regionstyle.encoder.registry import ENCODER_NAMES
from regionstyle.errors import BadInput

MAX_SIDE = 16384  # no output side beyond this (a 16k x 16k image is 1 GB of float32 pixels before any work)
MIN_SIDE = 16
PREVIEW_SIDE = 384
PREVIEW_ITERATIONS = 60
COLOR_MODES = ("style", "preserve", "match")
STYLE_LOSS_NAMES = ("gram", "w2", "sliced")  # regionstyle.style.losses registers one loss per name
DEVICE_PATTERN = r"auto|cpu|mps|cuda(:[0-9]{1,2})?"


@dataclass(frozen=True)
class Setting:
    """One transfer setting.

    rule: how its value is checked (type, range, choices), shared with the rules-file parser.
    default: the value when nobody sets it (None: "not set", with the meaning ``help`` gives).
    cli / in_rules / per_rule: settable as ``--name`` on apply and batch / in ``[defaults]`` / on one rule.
    metavar: what the command line shows for the value.
    """

    name: str
    rule: SettingRule
    default: Any
    help: str
    cli: bool = True
    in_rules: bool = True
    metavar: str | None = None

    @property
    def option(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def per_rule(self) -> bool:
        return self.rule.per_rule


def _int(low: int, high: int | None = None) -> SettingRule:
    return SettingRule("int", low=low, high=high)


def _float(low: float = 0.0, high: float | None = None, *, low_open: bool = False, per_rule: bool = False) -> SettingRule:
    return SettingRule("float", low=low, high=high, low_open=low_open, per_rule=per_rule)


def _choice(*choices: str, per_rule: bool = False) -> SettingRule:
    return SettingRule("str", choices=choices, per_rule=per_rule)


SETTINGS: tuple[Setting, ...] = (
    Setting("size", _int(MIN_SIDE, MAX_SIDE), None, "Output long side in pixels [default: the input's].",
            metavar="PIXELS"),
    Setting("iterations", _int(1, 100_000), None,
            "Iterations at the coarsest scale; each finer scale runs a third as many [default: the encoder's "
            "own: 140 for the bundled MobileNetV2, 200 for VGG]."),
    Setting("scales", SettingRule("ints", low=MIN_SIDE, high=MAX_SIDE), None,
            "Long sides of the coarse-to-fine scales, e.g. [256, 512, 1024] [default: doubling from "
            "coarse_start up to the output size].", cli=False),
    Setting("coarse_start", _int(MIN_SIDE, MAX_SIDE), 256, "Long side of the coarsest scale."),
    Setting("preview", SettingRule("bool"), False,
            f"Fast low-resolution render ({PREVIEW_SIDE} px, at most {PREVIEW_ITERATIONS} iterations)."),
    Setting("encoder", _choice(*ENCODER_NAMES), "auto",
            "Feature network: auto = VGG19 if its weights are cached, else the bundled MobileNetV2."),
    Setting("encoder_weights", SettingRule("file", what="encoder weights file"), None,
            "A local state-dict file for the encoder (a .toml beside it may declare its conventions).",
            metavar="FILE"),
    Setting("style_weight", _float(), None, "Style/content balance [default: the encoder's own]."),
    Setting("content_weight", _float(per_rule=True), 1.0,
            "How strongly the photo's structure is kept (a rule may set its own)."),
    # 10: on the ten shared photos at 512 px building structure 0.672 -> 0.908 (windows, murals, cornices
    # legible again) for a style ratio 0.393 -> 0.477 on buildings; 30 kept little more (0.929) and lost more
    # style (0.512). benchmarks/README.md, "Edges kept".
    Setting("edge_weight", _float(per_rule=True), 10.0,
            "How strongly the photo's edges (windows, cornices, lettering) are kept: the Laplacian of its "
            "luminance where it has edges (a rule may set its own)."),
    Setting("tv_weight", _float(), 1.0, "Total-variation smoothing."),
    Setting("color_weight", _float(), 1.0, "How strongly a region keeps its style's palette (color = style)."),
    Setting("color", _choice(*COLOR_MODES, per_rule=True), "style",
            "Colour mode of rules that set none: style (the style's palette), preserve (the photo's "
            "colours), match (the style recoloured to the region)."),
    Setting("style_loss", _choice(*STYLE_LOSS_NAMES, per_rule=True), "gram",
            "Style statistic a region matches: gram (Gram matrices), w2 (mean + covariance, Gaussian "
            "Wasserstein-2), sliced (sliced Wasserstein: whole feature distributions) (a rule may set its own)."),
    Setting("feather", _float(0.0, 256.0, per_rule=True), 4.0,
            "Width in pixels of the soft band where two regions meet (a rule may set its own)."),
    # Off: real things are islands too (a tree before a facade, a clock face on a tower: 0.5-1% of the shared
    # photos at 512 px), as are the segmenter's mistakes (a cloud called building, 1% of Logan Circle).
    Setting("min_island", _float(0.0, 0.5, per_rule=True), 0.0,
            "Pieces of a region smaller than this share of the photo that one other region surrounds join "
            "that region (a rule may set its own; keep regions never move)."),
    Setting("mask_mode", _choice("simple", "inside", "soft"), "soft",
            "How region masks reach deep layers: soft (fractional weight at borders), inside (no style "
            "gradient outside a region), simple (area resize)."),
    Setting("optimize_builtins", SettingRule("bool"), False,
            "Optimise regions styled by built-ins only, too. Off: they are laid in as rendered from their own "
            "pixels (200 iterations changed them by under 1% of the value range, at 10-100x the time)."),
    Setting("optimizer", _choice("lbfgs", "adam"), "lbfgs", "Pixel optimiser."),
    Setting("learning_rate", _float(0.0, 1.0, low_open=True), 0.02, "Adam's step size."),
    Setting("init", SettingRule("str", choices=("content", "noise"), file_choice=True, what="start image"),
            "content", "Start from: content (the photo, recoloured per region), noise, or an image file.",
            metavar="content|noise|FILE"),
    Setting("precision", _choice("auto", "fp32", "bf16"), "auto",
            "bfloat16 autocast where supported (auto), or force one."),
    Setting("threads", _int(0, 256), 0, "CPU threads for torch (0: one per free core)."),
    Setting("seed", _int(0, 2**63 - 1), 0, "Random seed (same seed, same image)."),
    Setting("device", SettingRule("str", pattern=DEVICE_PATTERN, pattern_hint="auto, cpu, cuda, cuda:N or mps"),
            "auto", "auto (CUDA when present, else CPU), cpu, cuda, cuda:N."),
)
BY_NAME: dict[str, Setting] = {setting.name: setting for setting in SETTINGS}

TransferConfig = make_dataclass(
    "TransferConfig", [(s.name, Any, field(default=s.default)) for s in SETTINGS], frozen=True,
    namespace={"__doc__": "Settings of one stylisation: one field per entry of regionstyle.config.SETTINGS "
                          "(see there for types, ranges and meanings); build it with make_config."})
TransferConfig.__module__ = __name__


def rules_settings() -> dict[str, SettingRule]:
    """The settings a rules file may set, for maskrules' parser: every ``in_rules`` key of the schema."""
    return {s.name: s.rule for s in SETTINGS if s.in_rules}


def checked(name: str, value: Any, *, base_dir: Path | None = None) -> Any:
    """The checked value of setting ``name`` (paths made absolute against ``base_dir``, default the current
    folder); raises :class:`maskrules.BadValue` with the "expected ..., got ..." words, or KeyError."""
    setting = BY_NAME[name]
    value = str(value) if isinstance(value, Path) else value
    return maskrules.check_setting(setting.rule, value, base_dir=base_dir or Path.cwd())


def check_value(name: str, value: Any, *, source: str, base_dir: Path | None = None) -> Any:
    """:func:`checked`, with BadInput naming where the value came from (``stylize() size=``)."""
    if name not in BY_NAME:
        raise BadInput(f"{source}: unknown setting {name!r}{did_you_mean(str(name), BY_NAME)}; "
                       f"known: {', '.join(BY_NAME)}")
    try:
        return checked(name, value, base_dir=base_dir)
    except maskrules.BadValue as problem:
        raise BadInput(f"{source} {problem}") from None


def check_keywords(given: Mapping[str, Any], *, source: str = "stylize()") -> dict[str, Any]:
    """API keywords -> checked settings; None means "not given" and is dropped."""
    return {name: check_value(name, value, source=f"{source} {name}={value!r}:") for name, value in given.items()
            if value is not None}


def make_config(defaults: Mapping[str, Any] | None = None, **given: Any) -> TransferConfig:
    """The TransferConfig of the rules' [defaults] (already checked by the parser) overridden by ``given``
    (checked here; None = not given), with ``preview`` applied."""
    values = dict(defaults or {})
    values.update(check_keywords(given, source="setting"))
    config = TransferConfig(**values)
    if config.preview:
        config = replace(config, size=min(config.size or PREVIEW_SIDE, PREVIEW_SIDE),
                         iterations=min(config.iterations or PREVIEW_ITERATIONS, PREVIEW_ITERATIONS),
                         coarse_start=min(config.coarse_start, PREVIEW_SIDE // 2),
                         scales=None if config.scales is None else
                         tuple(side for side in config.scales if side <= PREVIEW_SIDE) or (PREVIEW_SIDE,))
    return config


def settings_dict(config: TransferConfig) -> dict[str, Any]:
    """Every setting of ``config`` by name (JSON-friendly: paths as strings), for manifests."""
    return {f.name: (str(v) if isinstance(v := getattr(config, f.name), Path) else v) for f in fields(config)}


def region_setting(region: maskrules.ResolvedRegion, config: TransferConfig, name: str) -> Any:
    """A per-rule setting of a region: the rule's own value, else the run's."""
    return region.settings.get(name, getattr(config, name))


def working_size(size: tuple[int, int], config: TransferConfig) -> tuple[int, int]:
    """(height, width) to stylise at: the input's own size unless ``config.size`` sets the long side
    (a preview never enlarges the photo)."""
    height, width = size
    long_side = config.size or max(height, width)
    if config.preview:
        long_side = min(long_side, max(height, width))
    if long_side == max(height, width):
        return size
    factor = long_side / max(height, width)
    return max(1, round(height * factor)), max(1, round(width * factor))


def describe_rule(rule: SettingRule) -> str:
    """A setting's values in words, for the documentation ("int in [16, 16384]", "one of lbfgs, adam")."""
    if rule.choices:
        text = "one of " + ", ".join(f"`{c}`" for c in rule.choices)
        return text + ", or an image file (relative to the rules file)" if rule.file_choice else text
    if rule.kind in ("int", "float", "ints"):
        kind = {"int": "integer", "float": "number", "ints": "list of integers"}[rule.kind]
        shown = (lambda x: f"{int(x)}") if rule.kind != "float" else (lambda x: f"{x:g}")
        if rule.low is not None and rule.high is not None:
            return f"{kind} in {'(' if rule.low_open else '['}{shown(rule.low)}, {shown(rule.high)}]"
        return f"{kind} {'>' if rule.low_open else '>='} {shown(rule.low)}" if rule.low is not None else kind
    return {"bool": "`true` or `false`", "file": "a file path, relative to the rules file"}.get(
        rule.kind, rule.pattern_hint or "text")


def settings_table() -> str:
    """The Markdown table of every setting (docs/rules.md holds a copy; a test keeps them equal)."""
    rows = ["| setting | values | default | where | meaning |", "|---|---|---|---|---|"]
    for s in SETTINGS:
        where = ", ".join(w for w, on in (("rules", s.in_rules), ("rule", s.per_rule), ("CLI", s.cli)) if on)
        default = "—" if s.default is None else f"`{json_default(s.default)}`"
        rows.append(f"| `{s.name}` | {describe_rule(s.rule)} | {default} | {where}, API | {s.help} |")
    return "\n".join(rows)


def json_default(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)
