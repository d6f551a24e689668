"""The weights the window's runs start from: an imported model's, while its document is open.

File › Import Model… brings a model's weights with its graph. They are kept as a NetLoom
checkpoint in the data folder (`imported/`, as `import --weights-out` writes one) and
every run of that document starts from them, as `train --weights` does: a block whose
shape changed since (the classifier given 10 units) starts fresh, and the run's first
line says so. Opening another project forgets them.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from engine.project.project import Project, to_dict

log = logging.getLogger(__name__)


class StartWeights:
    """Where the open document's imported weights are kept, if it has any."""

    def __init__(self, data_dir: Path) -> None:
        self.folder = data_dir / "imported"
        self.path: Path | None = None

    def keep(self, state_dict: dict[str, Any], project: Project) -> Path | None:
        """Keep an imported model's weights for the runs of its document; None (logged)
        when they cannot be written: its runs then start from fresh weights."""
        from engine.train.checkpoint import save_checkpoint

        path = self.folder / f"{time.strftime('%Y%m%d-%H%M%S')}-{project.name or 'model'}.pt"
        try:
            save_checkpoint(path, state_dict, to_dict(project), {}, {})
        except (OSError, ValueError) as err:
            log.warning("the imported weights could not be kept: %s", err)
            self.path = None
            return None
        self.path = path
        return path

    def forget(self) -> None:
        self.path = None
