"""The README is what a newcomer follows: its two commands are the ones CI runs, and
every link and picture in it (and in docs/) points at a file that exists."""

from __future__ import annotations

import re

from tests.helpers import ROOT

LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def readme_commands() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    return [line for block in blocks for line in block.splitlines() if "python3 -m venv" in line]


def test_the_two_set_up_commands_are_there_and_ci_runs_the_test_one() -> None:
    commands = readme_commands()
    opens_app = [c for c in commands if c.endswith("main.py")]
    runs_tests = [c for c in commands if "pytest" in c]
    assert len(opens_app) == 1 and len(runs_tests) == 1, commands
    assert "-c .ci/constraints.txt" in opens_app[0]  # the pins keep torch a CPU wheel
    assert runs_tests[0] in (ROOT / ".ci" / "run").read_text()


def test_every_link_and_picture_in_the_readme_and_docs_exists() -> None:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    assert len(pages) > 5
    broken = []
    for page in pages:
        for target in LINK.findall(page.read_text()):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            if not (page.parent / target).exists():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
    assert not broken, "\n".join(broken)
