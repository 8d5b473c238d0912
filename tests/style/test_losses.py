"""regionstyle.style.losses: the registry of style losses, their targets, and how a rule's ``style_loss``
reaches each region's term of the objective."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from torch import nn
from PIL import Image

from maskrules import RuleError, parse_rules
from regionstyle import api, config, files, optimize
from regionstyle.cli import main
from regionstyle.config import STYLE_LOSS_NAMES, make_config
from regionstyle.encoder import EncoderInfo, FeatureEncoder, LayerPlan
from regionstyle.objective import evaluate
from regionstyle.optimize import ScaleWork, StyledRegion
from regionstyle.errors import BadInput
from regionstyle.session import Session
from regionstyle.style.losses import style_loss
from regionstyle.style.targets import StyleSource, style_target


def _rows(n: int, c: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(n, c, generator=g) @ torch.randn(c, c, generator=g) + torch.randn(c, generator=g)).relu()


def _target(name: str, rows: torch.Tensor, weights: torch.Tensor | None = None, seed: int = 5):
    loss = style_loss(name)
    return loss.combine([(loss.summarise(rows, weights, seed), 1.0)])


@pytest.mark.parametrize("name", STYLE_LOSS_NAMES)
def test_every_loss_is_zero_on_its_own_exemplar_and_positive_elsewhere(name):
    rows, other = _rows(1024, 6, seed=12), _rows(1024, 6, seed=13)
    target = _target(name, rows)
    ones = torch.ones(1024)
    distance = style_loss(name).distance
    assert abs(float(distance(rows, ones, target))) < 1e-4
    assert float(distance(other, ones, target)) > 100 * abs(float(distance(rows, ones, target))) + 1e-3


@pytest.mark.parametrize("name", STYLE_LOSS_NAMES)
def test_a_masked_exemplar_is_summarised_over_its_mask_only(name):
    rows, weights = _rows(600, 5, seed=20), (torch.rand(600, generator=torch.Generator().manual_seed(1)) > 0.5).float()
    scrambled = rows.clone()
    scrambled[weights == 0] = _rows(int((weights == 0).sum()), 5, seed=21)  # change only the unmasked rows
    distance = style_loss(name).distance
    kept = weights > 0
    # Rows of the mask alone are (almost) at distance zero from the masked target, however the rest looks.
    assert abs(float(distance(rows[kept], torch.ones(int(kept.sum())), _target(name, scrambled, weights)))) < 1e-3
    assert float(distance(rows[kept], torch.ones(int(kept.sum())), _target(name, scrambled))) > 1e-2


@pytest.mark.parametrize("name", ["w2", "sliced"])
def test_relative_distances_give_w2_and_sliced_the_same_value_for_a_shift(name):
    rows = _rows(2048, 4, seed=22)
    shift = torch.tensor([3.0, -1.0, 2.0, 0.5])
    value = float(style_loss(name).distance(rows + shift, torch.ones(2048), _target(name, rows)))
    energy = float(rows.pow(2).sum(1).mean())
    scale = 2.5 if name == "sliced" else 1.0  # SLICED_SCALE
    assert value == pytest.approx(scale * float(shift.pow(2).sum()) / energy, rel=0.02)


@pytest.mark.parametrize("name", ["w2", "sliced"])
def test_bfloat16_rows_give_finite_results_close_to_float32(name):
    g = torch.Generator().manual_seed(3)
    rows = torch.rand(4096, 32, generator=g) * 2  # softmaxed features look like this: positive, mean ~1
    style = torch.rand(4096, 32, generator=g) ** 2 * 3
    weights = (torch.rand(4096, generator=g) > 0.3).float() * torch.rand(4096, generator=g)
    target = _target(name, style)
    distance = style_loss(name).distance
    exact = float(distance(rows, weights, target))
    fast = distance(rows.to(torch.bfloat16), weights, target)
    assert fast.dtype == torch.float32 and torch.isfinite(fast)
    assert fast.item() == pytest.approx(exact, rel=0.01)


def test_unknown_loss_names_the_valid_ones():
    with pytest.raises(ValueError, match="style_loss 'wasserstein': expected one of gram, w2, sliced"):
        style_loss("wasserstein")


def _source(seed: int = 0) -> StyleSource:
    return StyleSource(f"noise{seed}", (torch.rand(3, 32, 32, generator=torch.Generator().manual_seed(seed)),), (1.0,))


@pytest.mark.parametrize("name", STYLE_LOSS_NAMES)
def test_a_blend_of_two_copies_of_one_exemplar_is_that_exemplar(tiny_encoder, name):
    encoder, plan = tiny_encoder
    taps = tuple(tap for tap, _ in plan.style)
    image = _source().images[0]
    single = style_target(_source(), encoder, taps, content_long_side=32, device=torch.device("cpu"), loss=name)
    blend = StyleSource("blend", (image, image), (0.3, 0.7))
    double = style_target(blend, encoder, taps, content_long_side=32, device=torch.device("cpu"), loss=name)
    assert single.loss == double.loss == name
    for tap in taps:
        for a, b in zip(vars(single.taps[tap]).values(), vars(double.taps[tap]).values()):
            torch.testing.assert_close(torch.as_tensor(a), torch.as_tensor(b), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", STYLE_LOSS_NAMES)
def test_a_regions_style_gradient_never_leaks_outside_its_mask(tiny_encoder, name):
    encoder, plan = tiny_encoder
    cfg = make_config(style_loss=name, mask_mode="inside", precision="fp32", content_weight=0.0, tv_weight=0.0,
                      color_weight=0.0)
    masks = torch.zeros(2, 48, 64)
    masks[0, 8:40, 10:44] = 1
    masks[1] = 1 - masks[0]
    content = torch.rand(3, 48, 64, generator=torch.Generator().manual_seed(4))
    regions = [StyledRegion("inner", 0, _source(), style_loss=name)]
    work = ScaleWork(content, masks, regions, encoder=encoder, plan=plan, config=cfg, long_side=64, target_cache=None)
    problem = work.problem()
    image = content[None].clone().requires_grad_(True)
    loss, terms = evaluate(image, problem, encoder)
    assert terms["style"] > 0
    loss.backward()
    grad = image.grad[0].abs().sum(0)
    assert grad[masks[0] == 0].max().item() == 0.0
    assert grad[masks[0] == 1].max().item() > 0.0


@pytest.fixture()
def spy(monkeypatch) -> list[dict[str, str]]:
    """Records, per built problem, each region's name -> the loss of its target."""
    seen: list[dict[str, str]] = []
    real = optimize.build_problem

    def recording(*args, **kwargs):
        problem = real(*args, **kwargs)
        seen.append({term.name: term.target.loss for term in problem.regions})
        return problem

    monkeypatch.setattr(optimize, "build_problem", recording)
    return seen


@pytest.fixture()
def scene(tmp_path):
    rng = np.random.default_rng(0)
    Image.fromarray((rng.random((32, 32, 3)) * 255).astype(np.uint8)).save(tmp_path / "photo.png")
    labels = np.full((32, 32), 3, np.uint8)  # sky on top, building below (ADE20K ids)
    labels[16:] = 2
    Image.fromarray(labels).save(tmp_path / "labels.png")
    return tmp_path


def _rules(scene, defaults: str = "", sky_rule: str = "") -> str:
    path = scene / "rules.toml"
    path.write_text(f'[segmentation]\nlabels = "labels.png"\nclasses = "ade20k"\n[defaults]\niterations = 2\n'
                    'optimize_builtins = true\n'
                    f'{defaults}[[rule]]\nclasses = "sky"\nstyle = "oil"\n{sky_rule}[[rule]]\nclasses = "building"\n'
                    'style = "oil"\n')
    return str(path)


def test_style_loss_from_defaults_and_a_rule_reaches_each_region(scene, tiny_encoder, spy):
    rules = _rules(scene, 'style_loss = "w2"\n', 'style_loss = "sliced"\n')
    done = files.stylize_file(scene / "photo.png", rules, scene / "out.png", session=Session(custom_encoder=tiny_encoder))
    assert spy and all(seen == {"sky": "sliced", "building": "w2"} for seen in spy)
    assert {r["name"]: r["style_loss"] for r in done.report["regions"] if r["styled"]} == {"sky": "sliced",
                                                                                           "building": "w2"}


def test_style_loss_from_the_api_beats_defaults_but_not_a_rule(scene, tiny_encoder, spy):
    rules = _rules(scene, 'style_loss = "w2"\n', 'style_loss = "gram"\n')
    api.stylize(str(scene / "photo.png"), rules, style_loss="sliced", session=Session(custom_encoder=tiny_encoder))
    assert spy and all(seen == {"sky": "gram", "building": "sliced"} for seen in spy)


def test_style_loss_from_the_command_line_reaches_each_region(scene, spy):
    rules = _rules(scene)
    result = CliRunner().invoke(main, ["apply", str(scene / "photo.png"), rules, "-o", str(scene / "cli.png"),
                                       "--encoder", "random", "--iterations", "2", "--style-loss", "w2"])
    assert result.exit_code == 0, result.output
    assert spy and all(seen == {"sky": "w2", "building": "w2"} for seen in spy)


def test_an_unknown_style_loss_is_refused_with_the_choices():
    with pytest.raises(RuleError, match="expected one of 'gram', 'w2', 'sliced', got 'gaussian'"):
        parse_rules('[defaults]\nstyle_loss = "gaussian"\n', settings=config.rules_settings())
    with pytest.raises(RuleError, match="expected one of 'gram', 'w2', 'sliced', got 'gaussian'"):
        parse_rules('[[rule]]\nclasses = "sky"\nstyle = "oil"\nstyle_loss = "gaussian"\n',
                    settings=config.rules_settings())
    with pytest.raises(BadInput, match="expected one of 'gram', 'w2', 'sliced', got 'gaussian'"):
        make_config(style_loss="gaussian")


class _ScaledEncoder(FeatureEncoder):
    """A seeded three-layer conv encoder whose taps are multiplied by ``factor``."""

    factor = 1.0  # the class default serves the dry run inside FeatureEncoder.__init__

    def __init__(self, factor: float) -> None:
        torch.manual_seed(0)
        body = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(),
                             nn.MaxPool2d(2), nn.Conv2d(16, 16, 3, padding=1), nn.ReLU())
        super().__init__(body=body, taps={"relu1_1": "1", "relu2_1": "3", "relu3_1": "6"}, mean=(0.5,) * 3,
                         std=(0.25,) * 3, info=EncoderInfo("scaled", "random(seed=0)", "test", pretrained=False))
        self.factor = factor

    def forward(self, image, taps=None):
        return {tap: value * self.factor for tap, value in super().forward(image, taps).items()}


@pytest.mark.parametrize("name", STYLE_LOSS_NAMES)
def test_every_term_is_unchanged_when_the_features_are_scaled(name):
    # Softmaxed features are left at their natural size, of order 1 / C (regionstyle.encoder.smoothing): that
    # holds only while every term that reads features is a relative error. A factor of 1e-5 reaches the
    # sizes of MobileNetV2's 576-channel tap (Gram mean square ~2e-11), where an absolute floor would show.
    plan = LayerPlan(style=(("relu1_1", 1.0), ("relu2_1", 1.0), ("relu3_1", 1.0)), content="relu2_1")
    cfg = make_config(style_loss=name, precision="fp32")
    masks = torch.zeros(2, 48, 64)
    masks[0, :, :40] = 1
    masks[1] = 1 - masks[0]
    content = torch.rand(3, 48, 64, generator=torch.Generator().manual_seed(7))
    image = torch.rand(1, 3, 48, 64, generator=torch.Generator().manual_seed(8))
    regions = [StyledRegion("left", 0, _source(1), style_loss=name),
               StyledRegion("right", 1, _source(2), style_loss=name)]
    values = []
    for factor in (1.0, 1e-5, 40.0):
        encoder = _ScaledEncoder(factor)
        work = ScaleWork(content, masks, regions, encoder=encoder, plan=plan, config=cfg, long_side=64,
                         target_cache=None)
        values.append(evaluate(image, work.problem(), encoder)[1])
    assert values[0]["style"] > 0.01 and values[0]["content"] > 0.01
    for other in values[1:]:
        for term in ("style", "content", "total"):
            assert other[term] == pytest.approx(values[0][term], rel=1e-3)
