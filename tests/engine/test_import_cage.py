"""`import FILE.py:Class` runs the user's code in a cage: a child process with a time
limit, a memory ceiling and an output cap. Hostile or broken code gives one line and
exit 1, and nothing is written. Each case starts a child (torch loads there: seconds),
so the cases are few and their limits short.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from engine.cli.main import run
from engine.importers.cage import CageFailure, report_from_dict, report_to_dict
from engine.importers.report import ImportReport

HEADER = "import os, sys\nimport torch\nfrom torch import nn\n\n\n"


def model(body: str) -> str:
    """A model class whose __init__ runs `body` after a Linear is made."""
    lines = "\n".join(f"        {line}" for line in body.splitlines())
    return (
        HEADER
        + "class Net(nn.Module):\n"
        + "    def __init__(self):\n"
        + "        super().__init__()\n"
        + "        self.fc = nn.Linear(4, 2)\n"
        + lines
        + "\n\n    def forward(self, x):\n        return self.fc(x)\n"
    )


HOSTILE = {
    "loops": (model("while True:\n    pass"), ["--timeout", "2"]),
    "os._exit": (model("os._exit(3)"), []),
    "sys.exit": (model("sys.exit(4)"), []),
    "prints megabytes": (model("for _ in range(50_000):\n    print('x' * 100)"), []),
}
EXPECTED = {
    "loops": "error: the model's __init__ did not return within 2 s",
    "os._exit": "error: the model's code ended the process (os._exit(3))",
    "sys.exit": "error: the model's code called sys.exit(4)",
    "prints megabytes": "error: the model's code printed more than 1 MB; the import was stopped",
}


def import_hostile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, flags: list[str]
) -> list[str]:
    source = tmp_path / "net.py"
    source.write_text(text, encoding="utf-8")
    project, weights = tmp_path / "p.json", tmp_path / "w.pt"
    args = ["import", f"{source}:Net", "--input-shape", "4", "-o", str(project)]
    code = run([*args, "--weights-out", str(weights), *flags])
    captured = capsys.readouterr()
    assert code == 1, captured
    assert not project.exists() and not weights.exists(), "nothing may be written"
    assert captured.out == ""
    return captured.err.strip().splitlines()


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_model_code_gives_one_line_and_exit_1(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, flags = HOSTILE[case]
    assert import_hostile(tmp_path, capsys, text, flags) == [EXPECTED[case]]


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the memory ceiling is Linux's RLIMIT_AS"
)
def test_a_1_gb_allocation_hits_the_memory_ceiling(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Torch and NetLoom take ~0.7 GB of address space in the child; 1 GB more is over 1.5 GB.
    text = model("self.big = torch.ones(256, 1024, 1024)  # 1 GB of float32")
    lines = import_hostile(tmp_path, capsys, text, ["--memory-limit", "1.5"])
    assert lines == [
        f"error: the model's code ran out of memory at {tmp_path / 'net.py'}:10 (limit 1.5 GB)"
    ]


def test_the_report_crosses_the_process_boundary_as_data() -> None:
    report = ImportReport("net.py:Net", mapped=3, check="outputs bit-identical")
    report.error("net.py:12", "torch.fft.fft", "a Fourier transform")
    report.note("net.py:Net (returns)", "output", "a guess")
    assert report_from_dict(report_to_dict(report)) == report


@pytest.mark.parametrize(
    "damaged",
    [
        None,
        {"source": 3},
        {"source": "a", "mapped": "many"},
        {"source": "a", "issues": [{"place": "p", "op": "o", "why": "w", "severity": "fatal"}]},
        {"source": "a", "issues": [["p", "o", "w", "error"]]},
    ],
)
def test_a_damaged_report_from_the_child_is_one_line(damaged: object) -> None:
    with pytest.raises(CageFailure, match="damaged data|unknown report severity"):
        report_from_dict(damaged)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_processes_the_models_code_starts_do_not_outlive_the_import(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pid_file = tmp_path / "sleeper.pid"
    start = (
        "import subprocess\n"
        "sleeper = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(sleeper.pid))\n"
        "while True:\n    pass"
    )
    lines = import_hostile(tmp_path, capsys, model(start), ["--timeout", "2"])
    assert lines == [EXPECTED["loops"]]
    pid = int(pid_file.read_text())
    assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
