"""Importing the idioms of real models that split, slice, select, stack and start
recurrent layers from zeros (issue 26), on plain-torch stand-ins of torchvision's
ShuffleNetV2 unit, a DenseNet block, an SE gate written with None-indexing, a BiLSTM
classifier and a GRU encoder with `h0 = torch.zeros(…)`.

Each import is proved by the importer itself (bit-identical outputs at two batch
sizes); the exported Python gives the original's outputs too.
"""

from __future__ import annotations

import importlib.util
from collections import Counter
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from engine.codegen import to_python
from engine.codegen.text import class_name
from engine.importers.check import ImportResult, InputSpec
from engine.importers.from_torch import import_module
from engine.project.project import Project


def imported(model: nn.Module, *dims: int, sequence: bool = False, dtype: str = "float32"):
    torch.manual_seed(0)
    result = import_module(model.eval(), InputSpec(dims, sequence, dtype), type(model).__name__)
    assert result.project is not None, result.report.text()
    return result


def types(result: ImportResult) -> Counter[str]:
    assert result.project is not None
    return Counter(node.type for node in result.project.graph.nodes)


def exported_matches(result: ImportResult, model: nn.Module, x: torch.Tensor, tmp: Path) -> None:
    project: Project = result.project
    path = tmp / "exported.py"
    path.write_text(to_python(project), encoding="utf-8")
    spec = importlib.util.spec_from_file_location("exported_b2", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    net = getattr(module, class_name(project.name))().eval()
    net.load_state_dict(result.state_dict)
    with torch.no_grad():
        assert torch.equal(net(x), model(x))


# ---------------------------------------------------------------- ShuffleNetV2


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    batch, channels, height, width = x.size()
    x = x.view(batch, groups, channels // groups, height, width)
    x = torch.transpose(x, 1, 2).contiguous()
    return x.view(batch, channels, height, width)


class ShuffleUnit(nn.Module):
    """torchvision's InvertedResidual with stride 1: half the channels pass, half go
    through a branch; then the channels are shuffled."""

    def __init__(self, channels: int = 8) -> None:
        super().__init__()
        half = channels // 2
        self.branch2 = nn.Sequential(
            nn.Conv2d(half, half, 1, bias=False),
            nn.BatchNorm2d(half),
            nn.ReLU(inplace=True),
            nn.Conv2d(half, half, 3, padding=1, groups=half, bias=False),
            nn.BatchNorm2d(half),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1, x2 = x.chunk(2, dim=1)
        out = torch.cat((x1, self.branch2(x2)), dim=1)
        return channel_shuffle(out, 2)


def test_shufflenet_unit_splits_and_shuffles_channels(tmp_path: Path) -> None:
    model = ShuffleUnit()
    result = imported(model, 8, 6, 6)
    graph = result.project.graph
    split = next(node for node in graph.nodes if node.type == "Split")
    assert split.params == {"axis": 1, "sizes": [4, 4], "squeeze": False}
    leaving = {edge.source_port for edge in graph.edges if edge.source == split.id}
    assert leaving == {"out1", "out2"}
    shuffle = [
        graph.node(n).type
        for n in graph.topological_order()
        if graph.node(n).type in ("Reshape", "Permute")
    ]
    assert shuffle == ["Reshape", "Permute", "Reshape"]
    exported_matches(result, model, torch.randn(2, 8, 6, 6), tmp_path)


class Splits(nn.Module):
    """torch.split by sizes and by one size, unbind, a part picked by [-1]."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b, c = torch.split(x, [2, 3, 1], dim=1)
        rows = x.split(2, dim=2)  # 5 rows in parts of 2, 2, 1
        columns = torch.unbind(x, dim=-1)
        return torch.cat((c, a, b), 1) * rows[-1].mean(2, keepdim=True) * columns[0][..., None]


def test_split_by_sizes_by_one_size_and_unbind() -> None:
    result = imported(Splits(), 6, 5, 3)
    splits = sorted(
        (node.params["axis"], node.params["sizes"], node.params["squeeze"])
        for node in result.project.graph.nodes
        if node.type == "Split"
    )
    assert splits == [(1, [2, 3, 1], False), (2, [2, 2, 1], False), (3, [1, 1, 1], True)]


# ---------------------------------------------------------------- slicing


class Slicing(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)  # (N, 16, 6, 6)
        crop = y[:, :8, 1:-1, ::2]  # (N, 8, 4, 3)
        tail = y[..., :3][:, 8:, 1:5]  # (N, 8, 4, 3)
        first = y.narrow(1, 0, 8).select(3, 0)[:, :, 1:-1]  # (N, 8, 4)
        column = y[:, y.size(1) // 2 :, 1:5, 0].unsqueeze(-1)  # (N, 8, 4, 1)
        return (crop + tail) * first[:, :, :, None] * column


def test_slices_selections_and_new_axes_on_any_axis(tmp_path: Path) -> None:
    model = Slicing()
    result = imported(model, 3, 8, 8)
    kinds = types(result)
    assert kinds["Slice"] >= 6 and kinds["Select"] == 2 and kinds["Reshape"] == 2
    exported_matches(result, model, torch.randn(2, 3, 8, 8), tmp_path)


class BatchPick(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[0:1] * 2


def test_picking_from_the_batch_axis_is_one_clear_line() -> None:
    result = import_module(BatchPick(), InputSpec((4,)), "BatchPick")
    assert result.project is None
    assert "picks from the batch axis N" in result.report.text()


# ---------------------------------------------------------------- SE gate


class SEGate(nn.Module):
    """Squeeze-and-excitation with the weights made (N, C) and lifted by None-indexing."""

    def __init__(self, channels: int = 8) -> None:
        super().__init__()
        self.fc1 = nn.Linear(channels, 4)
        self.fc2 = nn.Linear(4, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = x.mean((2, 3))
        w = torch.sigmoid(self.fc2(F.relu(self.fc1(w))))
        return x * w[:, :, None, None]


def test_se_gate_with_none_indexing_is_a_reshape_then_multiply() -> None:
    result = imported(SEGate(), 8, 5, 5)
    graph = result.project.graph
    multiply = next(node for node in graph.nodes if node.type == "Multiply")
    gate = graph.node(graph.incoming(multiply.id)["in2"])
    assert gate.type == "Reshape" and gate.params["shape"] == [8, 1, 1]


# ---------------------------------------------------------------- merges


class DenseBlock(nn.Module):
    """Each layer sees every earlier feature map: the last torch.cat joins 9."""

    def __init__(self, layers: int = 8, growth: int = 2) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            nn.Conv2d(3 + i * growth, growth, 3, padding=1) for i in range(layers)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = [x]
        for layer in self.layers:
            features.append(layer(torch.cat(features, 1)))
        return torch.cat(features, 1)


def test_dense_block_joins_nine_tensors() -> None:
    result = imported(DenseBlock(), 3, 4, 4)
    widest = max(n.params["inputs"] for n in result.project.graph.nodes if n.type == "Concat")
    assert widest == 9


class ManyTerms(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.heads = nn.ModuleList(nn.Linear(4, 4) for _ in range(10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = [head(x) for head in self.heads]
        total = h[0] + h[1] + h[2] + h[3] + h[4] + h[5] + h[6] + h[7] + h[8] + h[9]
        gate = h[0] * h[1] * h[2] * h[3] * h[4] * h[5] * h[6] * h[7] * h[8] * h[9]
        stacked = torch.stack((x, gate, total), -1)  # (N, 4, 3)
        return torch.stack((total, gate, x), dim=1) + stacked.transpose(1, 2)


def test_sums_products_and_stacks_of_many_tensors_are_one_block_each() -> None:
    result = imported(ManyTerms(), 4)
    graph = result.project.graph
    assert [n.params["inputs"] for n in graph.nodes if n.type == "Add"] == [10, 2]
    assert [n.params["inputs"] for n in graph.nodes if n.type == "Multiply"] == [10]
    assert [n.params["inputs"] for n in graph.nodes if n.type == "Concat"] == [3, 3]


class HalfSupported(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(4, 4)
        self.b = nn.Linear(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.a(x) + torch.cumsum(x, 1) + self.b(x)


def test_a_sum_with_an_unsupported_term_reports_that_term_only() -> None:
    result = import_module(HalfSupported(), InputSpec((4,)), "HalfSupported")
    assert result.project is None
    errors = result.report.errors
    assert len(errors) == 1 and "torch.cumsum" in str(errors[0]), result.report.text()


# ---------------------------------------------------------------- recurrent


class BiLSTMClassifier(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(5, 6, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(12, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(x)
        return self.fc(out[:, -1])


def test_bilstm_last_step_of_the_output_is_the_sequence_and_select(tmp_path: Path) -> None:
    model = BiLSTMClassifier()
    result = imported(model, 7, 5, sequence=True)
    graph = result.project.graph
    assert graph.node("lstm").params["output"] == "sequence"
    select = next(node for node in graph.nodes if node.type == "Select")
    assert select.params == {"axis": 1, "index": -1}
    exported_matches(result, model, torch.randn(2, 7, 5), tmp_path)


class GRUEncoder(nn.Module):
    def __init__(self, hidden: int = 6) -> None:
        super().__init__()
        self.hidden = hidden
        self.gru = nn.GRU(5, hidden, num_layers=2, batch_first=True)
        self.lstm = nn.LSTM(hidden, hidden, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(2 * hidden, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h0 = torch.zeros(2, x.size(0), self.hidden).to(x.device)
        out, _ = self.gru(x, h0.detach())
        h1 = x.new_zeros(2, x.size(0), self.hidden)
        c1 = torch.zeros(2, x.size(0), self.hidden, device=x.device)
        _, (h_n, _) = self.lstm(out, (h1, c1))
        return self.fc(torch.cat((h_n[-2, :, :], h_n[-1, :, :]), dim=1))


def test_zero_initial_states_are_left_to_the_recurrent_blocks(tmp_path: Path) -> None:
    model = GRUEncoder()
    result = imported(model, 7, 5, sequence=True)
    graph = result.project.graph
    assert graph.node("gru").params["initial_state"] is False
    assert graph.node("lstm").params["initial_state"] is False
    assert graph.node("lstm").params["output"] == "last"
    exported_matches(result, model, torch.randn(2, 7, 5), tmp_path)


class Directions(nn.Module):
    """h_n[-1] of a bidirectional GRU alone (the backward direction), and h_n[-2:]
    made batch first."""

    def __init__(self) -> None:
        super().__init__()
        self.gru = nn.GRU(5, 4, num_layers=2, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(4, 8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, h_n = self.gru(x)
        both = h_n[-2:].transpose(0, 1).reshape(x.size(0), -1)
        return self.fc(h_n[-1]) + both


def test_bidirectional_final_state_picking() -> None:
    result = imported(Directions(), 7, 5, sequence=True)
    assert result.project.graph.node("gru").params["output"] == "last"
    assert types(result)["Slice"] == 1


class SequenceAndState(nn.Module):
    """An LSTM's output used whole and at its last step, and its h_n batch first."""

    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(5, 4, batch_first=True, bidirectional=True)
        self.gru = nn.GRU(5, 4, batch_first=True)
        self.fc = nn.Linear(8, 8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, (h_n, _) = self.lstm(x)
        out, _ = self.gru(x)
        both = out.mean(1) * out[:, -1]
        return h_n.permute(1, 0, 2).flatten(1) + self.fc(torch.cat((both, both), 1))


def test_output_used_whole_and_at_its_last_step_and_lstm_h_n_batch_first() -> None:
    result = imported(SequenceAndState(), 7, 5, sequence=True)
    graph = result.project.graph
    assert graph.node("gru").params["output"] == "sequence"
    assert graph.node("lstm").params["output"] == "state"
    assert types(result)["Select"] == 1 and types(result)["Slice"] == 1


class Reductions(nn.Module):
    """resnest's split attention sums its splits (`.sum(dim)`); amax keeping its axes."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        splits = torch.stack(torch.split(x, 4, dim=1), dim=1)  # (N, 2, 4, H, W)
        gap = splits.sum(dim=1)  # (N, 4, H, W)
        peak = gap.amax((2, 3), keepdim=True)  # (N, 4, 1, 1)
        return torch.sum(gap * peak, (2, 3))


def test_sums_and_maxima_over_chosen_axes_are_mean_blocks() -> None:
    result = imported(Reductions(), 8, 3, 3)
    reduces = sorted(
        (n.params["reduce"], n.params["axes"], n.params["keepdim"])
        for n in result.project.graph.nodes
        if n.type == "Mean"
    )
    assert reduces == [("max", [2, 3], True), ("sum", [1], False), ("sum", [2, 3], False)]


class WholeSlice(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, :, :] + x[:]


def test_a_written_slice_of_a_whole_axis_stays_a_slice() -> None:
    """As exported code writes a Slice that keeps its whole axis: `x[:, :, :]`."""
    result = imported(WholeSlice(), 3, 4)
    slices = [n.params for n in result.project.graph.nodes if n.type == "Slice"]
    assert slices == [{"axis": 2, "start": 0, "stop": "end", "step": 1}]


class JoinAfterUnsupported(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat((torch.cumsum(x, 1), x), dim=2)


def test_a_join_after_an_unsupported_term_reports_that_term_only() -> None:
    result = import_module(JoinAfterUnsupported(), InputSpec((4, 3)), "JoinAfterUnsupported")
    errors = result.report.errors
    assert len(errors) == 1 and "torch.cumsum" in str(errors[0]), result.report.text()


class PoolOverTime(nn.Module):
    """A text CNN pools each feature map over its whole length: `F.max_pool1d(c, c.size(2))`."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv1d(4, 6, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = F.relu(self.conv(x))
        return F.max_pool1d(c, c.size(2)).squeeze(2)


def test_functional_pool_with_a_size_the_code_computes() -> None:
    result = imported(PoolOverTime(), 4, 9)
    pools = [n.params for n in result.project.graph.nodes if n.type == "MaxPool1d"]
    assert len(pools) == 1 and pools[0]["kernel_size"] == 7


class JoinAlongSpace(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(3, 4, 1)
        self.b = nn.Conv2d(3, 4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = self.a(x), self.b(x)
        return torch.cat((a, b), dim=2)[..., :3] * torch.cat((b, a), -1).transpose(2, 3)[..., 1:4]


def test_a_join_along_a_spatial_axis_is_permute_concat_permute(tmp_path: Path) -> None:
    model = JoinAlongSpace()
    result = imported(model, 3, 5, 5)
    kinds = types(result)
    assert kinds["Concat"] == 2 and kinds["Permute"] == 3 + 3 + 1
    exported_matches(result, model, torch.randn(2, 3, 5, 5), tmp_path)


class JoinAlongTime(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat((x, x), dim=1)


def test_a_join_along_time_is_one_clear_line() -> None:
    result = import_module(JoinAlongTime(), InputSpec((4, 3), sequence=True), "JoinAlongTime")
    assert result.project is None
    assert "joins along axis 1" in result.report.text()


class MaxOverTime(nn.Module):
    """Tutorial text CNNs and PointNet take `torch.max(x, dim)[0]` or `.max(dim).values`."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv1d(4, 6, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = self.conv(x)
        return torch.max(c, dim=2)[0] + c.max(2, keepdim=True).values.flatten(1)


def test_max_over_an_axis_gives_its_values() -> None:
    result = imported(MaxOverTime(), 4, 9)
    kinds = types(result)
    assert kinds["GlobalPool"] == 1 and kinds["Mean"] == 1


class MaxIndices(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.max(1).indices.float()


def test_the_positions_of_a_maximum_are_one_clear_line() -> None:
    result = import_module(MaxIndices(), InputSpec((4, 3)), "MaxIndices")
    assert result.project is None
    assert "positions of a maximum" in result.report.text()
