"""Idioms of the torchvision and timm zoos, imported from Python with their weights (issue 26).

Each stand-in is written in plain torch with the idiom the real model uses: a
MobileNetV2 inverted residual (ReLU6, BatchNorm eps 1e-3), timm's BatchNormAct2d (a
BatchNorm2d subclass calling F.batch_norm), a ConvNeXt block (channels-last
F.layer_norm with eps 1e-6, layer scale, stochastic depth), timm resnet10t's average-pool
downsample, and the clamps and activations torchvision writes functionally. Each imports,
`check` passes, its outputs are bit-identical to the original's, and it exports back to
Python giving them again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import fx, nn

from engine.codegen.python_file import to_python
from engine.graph.shapes import analyze
from engine.importers.check import ImportResult, InputSpec
from engine.importers.from_torch import import_module
from engine.model.build import build_model
from tests.engine.helpers import load_file

IMAGE = InputSpec((8, 7, 7))


def imported(model: nn.Module, spec: InputSpec = IMAGE) -> ImportResult:
    result = import_module(model, spec, "net")
    assert result.report.ok, result.report.text()
    assert "bit-identical" in result.report.check
    assert analyze(result.project.graph).ok
    return result


def blocks(result: ImportResult, type_name: str) -> list[dict[str, Any]]:
    return [n.params for n in result.project.graph.nodes if n.type == type_name]


def exported_back(result: ImportResult, tmp_path: Path) -> nn.Module:
    """The project as `export --to python` writes it, with the imported weights."""
    path = tmp_path / "exported.py"
    path.write_text(to_python(result.project))
    module = load_file(path)
    cls = getattr(module, result.project.name)
    back = cls()
    back.load_state_dict(result.state_dict, strict=True)
    return back.eval()


def same_outputs(original: nn.Module, other: nn.Module, spec: InputSpec = IMAGE) -> bool:
    x = torch.randn(4, *spec.dims, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        return torch.equal(original.eval()(x), other.eval()(x))


def randomise(model: nn.Module) -> nn.Module:
    """Running statistics away from their defaults, so a norm that ignored them shows."""
    generator = torch.Generator().manual_seed(1)
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.running_mean is not None:
            m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=generator) * 0.1)
            m.running_var.copy_(torch.rand(m.running_var.shape, generator=generator) + 0.5)
        for name, p in m.named_parameters(recurse=False):
            if name in ("weight", "bias") and p.dim() == 1:
                p.data.copy_(torch.randn(p.shape, generator=generator))
    return model.eval()


# ------------------------------------------------------------ MobileNetV2


class InvertedResidual(nn.Module):
    """torchvision's MobileNetV2 block: expand, depthwise, project, with ReLU6 and the
    BatchNorm eps 1e-3 / momentum 0.01 of the TensorFlow-ported nets."""

    def __init__(self, channels: int = 8, expand: int = 3) -> None:
        super().__init__()
        hidden = channels * expand

        def bn(c: int) -> nn.BatchNorm2d:
            return nn.BatchNorm2d(c, eps=1e-3, momentum=0.01)

        self.conv = nn.Sequential(
            nn.Conv2d(channels, hidden, 1, bias=False),
            bn(hidden),
            nn.ReLU6(inplace=True),
            nn.Conv2d(hidden, hidden, 3, padding=1, groups=hidden, bias=False),
            bn(hidden),
            nn.ReLU6(inplace=True),
            nn.Conv2d(hidden, channels, 1, bias=False),
            bn(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x)


def test_an_inverted_residual_with_relu6_and_bn_eps_imports_exactly(tmp_path: Path) -> None:
    torch.manual_seed(0)
    original = randomise(InvertedResidual())
    result = imported(original)
    assert len(blocks(result, "ReLU6")) == 2
    norms = blocks(result, "BatchNorm")
    assert [(n["eps"], n["momentum"]) for n in norms] == [(1e-3, 0.01)] * 3
    assert same_outputs(original, exported_back(result, tmp_path))


# ------------------------------------------------------------ timm BatchNormAct2d


class BatchNormAct2d(nn.BatchNorm2d):
    """timm's norm + activation: a BatchNorm2d whose forward calls F.batch_norm itself."""

    def __init__(self, channels: int, eps: float = 1e-5, track: bool = True) -> None:
        super().__init__(channels, eps=eps, momentum=0.05, track_running_stats=track)
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training and self.track_running_stats:
            self.num_batches_tracked.add_(1)  # the count timm keeps, as torch's does
        bn_training = self.training or (self.running_mean is None and self.running_var is None)
        x = F.batch_norm(
            x,
            self.running_mean if not self.training or self.track_running_stats else None,
            self.running_var if not self.training or self.track_running_stats else None,
            self.weight,
            self.bias,
            bn_training,
            self.momentum,
            self.eps,
        )
        return self.act(x)


class ConvNormAct(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(8, 6, 3, padding=1, bias=False)
        self.bn = BatchNormAct2d(6, eps=1e-3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(x))


def test_a_batchnorm_calling_f_batch_norm_imports_with_its_running_statistics(
    tmp_path: Path,
) -> None:
    torch.manual_seed(0)
    original = randomise(ConvNormAct())
    before = {k: v.clone() for k, v in original.state_dict().items()}
    result = imported(original)
    # Tracing and probing run the model in training mode: its statistics stay as they were.
    assert all(torch.equal(v, before[k]) for k, v in original.state_dict().items())
    (norm,) = [n for n in result.project.graph.nodes if n.type == "BatchNorm"]
    assert (norm.params["eps"], norm.params["momentum"]) == (1e-3, 0.05)
    mean = result.state_dict[f"{norm.id}.running_mean"]
    assert torch.equal(mean, before["bn.running_mean"])
    assert same_outputs(original, exported_back(result, tmp_path))

    # Training moves NetLoom's running statistics exactly as the original's move.
    model = build_model(result.project.graph)
    model.load_state_dict(result.state_dict, strict=True)
    x = torch.randn(5, 8, 7, 7)
    original.train(), model.train()
    assert torch.equal(original(x), model(x))
    assert torch.equal(original.bn.running_var, model.state_dict()[f"{norm.id}.running_var"])


def test_f_batch_norm_without_running_statistics_keeps_using_the_batchs() -> None:
    original = nn.Sequential(nn.Conv2d(8, 6, 1), BatchNormAct2d(6, track=False)).eval()
    result = imported(original)  # in eval too: each batch's own statistics
    (norm,) = blocks(result, "BatchNorm")
    assert norm["track_running_stats"] is False


# ------------------------------------------------------------ ConvNeXt


def stochastic_depth(x: torch.Tensor, p: float, mode: str, training: bool = True) -> torch.Tensor:
    """Stand-in for torchvision.ops.stochastic_depth: same computation, same fx wrap, and
    the same module and name, by which the importer knows the library function."""
    if not training or p == 0.0:
        return x
    survival = 1.0 - p
    size = [x.shape[0]] + [1] * (x.ndim - 1) if mode == "row" else [1] * x.ndim
    noise = torch.empty(size, dtype=x.dtype, device=x.device).bernoulli_(survival)
    return x * noise.div_(survival)


fx.wrap("stochastic_depth")
stochastic_depth.__module__ = "torchvision.ops.stochastic_depth"


def drop_path(x: torch.Tensor, drop_prob: float, training: bool) -> torch.Tensor:
    """timm's drop_path idiom, which fx traces step by step."""
    if drop_prob == 0.0 or not training:
        return x
    keep_prob = 1 - drop_prob
    shape = (x.shape[0],) + (1,) * (x.ndim - 1)
    random_tensor = x.new_empty(shape).bernoulli_(keep_prob)
    random_tensor.div_(keep_prob)
    return x * random_tensor


class LayerNorm2d(nn.LayerNorm):
    """timm's LayerNorm over the channels of (N, C, H, W): permute, F.layer_norm, permute."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class ConvNeXtBlock(nn.Module):
    """A ConvNeXt block as timm writes it with conv_mlp: depthwise 7×7, channels-last
    LayerNorm (eps 1e-6), pointwise MLP with GELU, layer scale `x.mul(gamma.reshape)`,
    drop path; torchvision's variant scales with a (C, 1, 1) parameter and drops with
    stochastic_depth."""

    def __init__(self, dim: int = 8, torchvision_style: bool = False) -> None:
        super().__init__()
        self.torchvision_style = torchvision_style
        self.conv_dw = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm = LayerNorm2d(dim, eps=1e-6)
        self.fc1 = nn.Conv2d(dim, 4 * dim, 1)
        self.act = nn.GELU(approximate="tanh")
        self.fc2 = nn.Conv2d(4 * dim, dim, 1)
        if torchvision_style:
            self.layer_scale = nn.Parameter(torch.rand(dim, 1, 1))
        else:
            self.gamma = nn.Parameter(torch.rand(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x
        x = self.fc2(self.act(self.fc1(self.norm(self.conv_dw(x)))))
        if self.torchvision_style:
            x = stochastic_depth(self.layer_scale * x, 0.25, "row", self.training)
        else:
            x = drop_path(x.mul(self.gamma.reshape(1, -1, 1, 1)), 0.25, self.training)
        return x + shortcut


@pytest.mark.parametrize("torchvision_style", [False, True], ids=["timm", "torchvision"])
def test_a_convnext_block_imports_with_layer_scale_and_drop_path(
    torchvision_style: bool, tmp_path: Path
) -> None:
    torch.manual_seed(0)
    original = randomise(ConvNeXtBlock(torchvision_style=torchvision_style))
    result = imported(original)
    graph = result.project.graph
    assert [n.params["eps"] for n in graph.nodes if n.type == "LayerNorm"] == [1e-6]
    assert [n.params["approximate"] for n in graph.nodes if n.type == "GELU"] == ["tanh"]
    (scale,) = [n for n in graph.nodes if n.type == "LayerScale"]
    held = original.layer_scale if torchvision_style else original.gamma
    assert scale.params["axis"] == "channels"
    assert torch.equal(result.state_dict[scale.id].flatten(), held.detach().flatten())
    assert blocks(result, "DropPath") == [{"p": 0.25, "mode": "row"}]
    assert sum(n.type == "Permute" for n in graph.nodes) == 2

    model = build_model(graph)
    model.load_state_dict(result.state_dict, strict=True)
    back = exported_back(result, tmp_path)
    assert same_outputs(original, back)
    # In training the same samples are dropped and the kept scaled alike, given one seed.
    x = torch.randn(6, 8, 7, 7)
    outputs = []
    for net in (original, model, back):
        torch.manual_seed(3)
        outputs.append(net.train()(x))
    assert torch.equal(outputs[0], outputs[1]) and torch.equal(outputs[0], outputs[2])


def test_repeated_blocks_with_functional_norms_and_layer_scale_become_units(
    tmp_path: Path,
) -> None:
    torch.manual_seed(0)
    original = randomise(nn.Sequential(ConvNeXtBlock(), ConvNeXtBlock()))
    result = imported(original)
    graph = result.project.graph
    assert [n.type for n in graph.nodes] == ["Input", "ConvNeXtBlock", "ConvNeXtBlock", "Output"]
    (scale,) = [k for k in result.state_dict if k.startswith("n_1.") and k.count(".") == 1]
    assert torch.equal(result.state_dict[scale].flatten(), original[1].gamma.detach())
    assert same_outputs(original, exported_back(result, tmp_path))


class Stage(nn.Module):
    """A convnext/efficientnet stage: blocks in an nn.Sequential inside a repeated class."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks = nn.Sequential(ConvNeXtBlock(), ConvNeXtBlock())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(x)


def test_stages_of_blocks_become_units_with_the_blocks_inside() -> None:
    torch.manual_seed(0)
    result = imported(randomise(nn.Sequential(Stage(), Stage())))
    assert [n.type for n in result.project.graph.nodes] == ["Input", "Stage", "Stage", "Output"]
    assert "ConvNeXtBlock" in result.project.graph.library.definitions


class Scaled(nn.Module):
    """A learned per-channel factor, in the ways models write it."""

    def __init__(self, form: str, channels: int) -> None:
        super().__init__()
        self.form = form
        self.gamma = nn.Parameter(torch.rand(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.form == "index":
            return x * self.gamma[:, None, None]
        if self.form == "unsqueeze":
            return self.gamma.unsqueeze(-1).unsqueeze(-1) * x
        if self.form == "channels-last":
            return (x.permute(0, 2, 3, 1) * self.gamma).permute(0, 3, 1, 2)
        return self.gamma * x  # CaiT: (C,) times a sequence (N, T, C)


@pytest.mark.parametrize(
    ("form", "axis"),
    [
        ("index", "channels"),
        ("unsqueeze", "channels"),
        ("channels-last", "last"),
        ("seq", "channels"),
    ],
)
def test_a_learned_per_channel_factor_becomes_layer_scale(form: str, axis: str) -> None:
    spec = InputSpec((5, 8), sequence=True) if form == "seq" else IMAGE
    original = Scaled(form, 8)
    result = imported(original, spec)
    (scale,) = [n for n in result.project.graph.nodes if n.type == "LayerScale"]
    assert scale.params["axis"] == axis
    assert torch.equal(result.state_dict[scale.id].flatten(), original.gamma.detach())


class FixedScale(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("scale", torch.rand(8, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale


def test_a_fixed_buffer_becomes_layer_scale_with_a_note_to_freeze_it() -> None:
    result = imported(FixedScale())
    (note,) = [n for n in result.report.notes if n.op == "self.scale"]
    assert "a fixed buffer" in note.why and "freeze it" in note.why


# ------------------------------------------------------------ resnet10t downsample


class AvgDownsample(nn.Module):
    """timm resnet10t's downsample: average pool (ceil_mode, padding not counted), 1×1 conv."""

    def __init__(self) -> None:
        super().__init__()
        self.pool = nn.AvgPool2d(2, 2, ceil_mode=True, count_include_pad=False)
        self.conv = nn.Conv2d(8, 4, 1, bias=False)
        self.bn = nn.BatchNorm2d(4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(self.pool(x)))


def test_an_average_pool_not_counting_padding_imports_exactly(tmp_path: Path) -> None:
    torch.manual_seed(0)
    original = randomise(AvgDownsample())
    result = imported(original)  # 7×7: the last window of each row hangs over the edge
    (pool,) = blocks(result, "AvgPool2d")
    assert (pool["ceil_mode"], pool["count_include_pad"]) == (True, False)
    assert same_outputs(original, exported_back(result, tmp_path))


# ------------------------------------------------------------ activations and clamps


class Activations(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.relu6 = nn.ReLU6()
        self.hardtanh = nn.Hardtanh(-2.0, 3.0)
        self.hardsigmoid = nn.Hardsigmoid()
        self.hardswish = nn.Hardswish()
        self.silu = nn.SiLU()
        self.mish = nn.Mish()
        self.gelu = nn.GELU(approximate="tanh")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.gelu(self.mish(self.silu(self.hardswish(self.hardtanh(self.relu6(x))))))
        x = self.hardsigmoid(x)
        x = F.relu6(x)
        x = F.hardtanh(x, -0.5, 0.75)
        x = x.clamp(0, 6)  # ReLU6
        x = torch.clamp(x, min=0)  # ReLU
        x = x.clamp(-1.5, 2.5)  # Hardtanh
        x = F.hardsigmoid(x)
        x = F.gelu(x, approximate="tanh")
        return F.gelu(x)


def test_activations_and_clamps_map_to_the_block_computing_each(tmp_path: Path) -> None:
    result = imported(Activations())
    graph = result.project.graph
    kinds = [(n.type, n.params) for n in graph.nodes if n.type not in ("Input", "Output")]
    assert [k for k, _ in kinds] == [
        "ReLU6",
        "Hardtanh",
        "Hardswish",
        "SiLU",
        "Mish",
        "GELU",
        "Hardsigmoid",
        "ReLU6",
        "Hardtanh",
        "ReLU6",
        "ReLU",
        "Hardtanh",
        "Hardsigmoid",
        "GELU",
        "GELU",
    ]
    hardtanh = [p for k, p in kinds if k == "Hardtanh"]
    assert [(p["min_val"], p["max_val"]) for p in hardtanh] == [(-2, 3), (-0.5, 0.75), (-1.5, 2.5)]
    assert [p["approximate"] for k, p in kinds if k == "GELU"] == ["tanh", "tanh", "none"]
    assert same_outputs(Activations(), exported_back(result, tmp_path))


# ------------------------------------------------------------ functional norms and Dense


class FunctionalLayers(nn.Module):
    """Norms and a Linear called functionally with the modules' own weights, as timm's
    Linear calls F.linear; each block is named after the module holding its weights."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(8, 6, 3)
        self.gn = nn.GroupNorm(3, 6, eps=1e-4)
        self.inorm = nn.InstanceNorm2d(6, affine=True, eps=1e-3)
        self.fc = nn.Linear(6 * 5 * 5, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        x = F.group_norm(x, self.gn.num_groups, self.gn.weight, self.gn.bias, self.gn.eps)
        x = F.instance_norm(x, weight=self.inorm.weight, bias=self.inorm.bias, eps=1e-3)
        x = F.layer_norm(x, (5, 5), eps=1e-6)
        return F.linear(x.flatten(1), self.fc.weight, self.fc.bias)


def test_functional_norms_and_linear_become_blocks_with_the_weights_they_read(
    tmp_path: Path,
) -> None:
    torch.manual_seed(0)
    original = randomise(FunctionalLayers())
    result = imported(original)
    graph = result.project.graph
    assert (graph.node("gn").params["num_groups"], graph.node("gn").params["eps"]) == (3, 1e-4)
    assert graph.node("inorm").params["eps"] == 1e-3 and graph.node("inorm").params["affine"]
    (layer_norm,) = blocks(result, "LayerNorm")
    assert (layer_norm["axes"], layer_norm["affine"], layer_norm["eps"]) == (2, False, 1e-6)
    assert graph.node("fc").type == "Dense" and graph.node("fc").params["units"] == 4
    assert torch.equal(result.state_dict["fc.weight"], original.fc.weight)
    assert same_outputs(original, exported_back(result, tmp_path))


# ------------------------------------------------------------ what has no block


class Unmappable(nn.Module):
    def __init__(self, case: str) -> None:
        super().__init__()
        self.case = case
        self.bn = nn.BatchNorm2d(8)
        self.scale = nn.Parameter(torch.ones(7))
        self.fc = nn.Linear(8 * 7 * 7, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.case == "tied":
            h = x.flatten(1)
            return self.fc(h) + F.linear(h, self.fc.weight)
        if self.case == "clamp":
            return x.clamp(max=6)
        if self.case == "frozen":
            bn = self.bn
            return F.batch_norm(x, bn.running_mean, bn.running_var, bn.weight, bn.bias, False)
        return x * self.scale.reshape(1, 1, 7, 1)


@pytest.mark.parametrize(
    ("case", "op", "why"),
    [
        ("clamp", ".clamp()", "clamps from above at 6 alone; Hardtanh needs both bounds"),
        ("frozen", "F.batch_norm", "running statistics while training too (training=False"),
        ("scale", "*", "LayerScale holds one factor per channel: (8, 1, 1) or (7,)"),
        ("tied", "F.linear", "uses self.fc.weight, which another layer uses too"),
    ],
    ids=["clamp-max-alone", "frozen-batchnorm", "scale-along-height", "shared-weight"],
)
def test_what_no_block_computes_is_one_report_line_at_its_source_line(
    case: str, op: str, why: str
) -> None:
    result = import_module(Unmappable(case), IMAGE, "net")
    assert result.project is None
    (issue,) = result.report.errors
    assert issue.place.startswith("tests/engine/test_import_idioms_b1.py:")
    assert issue.op == op and why in issue.why, issue
