"""Render the README's screenshots offscreen: the main window with the CNN+LSTM video
template, the template gallery, and a finished training run of that template (live
curves, confusion matrix, "try a sample"; it trains for real, about half a minute).

`--only look` renders "Look inside" at 1440×900: conv1's feature maps on a digit
after a short CNN digits run, and the time lens of lstm_adding's LSTM.

`--only import` renders, at 1440×900, an imported model: the CIFAR ResNet of the import
corpus in the editor, its repeated BasicBlocks collapsed into units, and the import
dialog's report for a model with operations no block computes (torch.fft, a
subtraction, a Softplus).

`--only trial` renders "try a sample" in Results at 1440×900: where a CNN digits net
looks (Grad-CAM over the digit), where the CNN+LSTM video net looks frame by frame, and
the FCN segmentation net's mask on a generated 64×64 image; and the Inspector naming the
FCN's free input sizes.

`--only look-training` renders Look inside's Training tab at 1440×900 after a short
rnn_adding run: the gradient that reaches the RNN's first steps, and the histograms.

`--only sizes` renders, at 1280×800 and at 1440×900 into docs/screenshots/, the screens a
newcomer meets first: the editor with a template open (as it opens, not refitted), the
window after a CNN+LSTM video run, "try a sample" in Results, Look inside on an LSTM,
the Runs tab with two runs, and the import dialog with its report.

`--only runs` renders, at 1440×900, what a run leaves behind: the window after switching
from a finished CNN+LSTM video run to the CNN digits template (no old numbers stay),
a 10-class confusion matrix (a short CNN digits run), and the Runs tab with both runs
ticked (also at 1280×800).

    QT_QPA_PLATFORM=offscreen .venv/bin/python resources/make_screenshots.py [--only runs]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QSettings, Qt  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from gui.common.theme import apply_theme  # noqa: E402
from gui.gallery import TemplateGallery  # noqa: E402
from gui.main_window import MainWindow  # noqa: E402

OUT = ROOT / "resources" / "screenshots"
TEMPLATE = ROOT / "templates" / "cnn_lstm_video.json"
DIGITS = ROOT / "templates" / "cnn_digits.json"
SIZE = (1600, 980)
WINDOW_SIZES = ((1440, 900), (1280, 800))  # the sizes the window must look finished at
RUN_TIMEOUT_S = 600


def settle(app: QApplication, window) -> None:
    for _ in range(5):
        app.processEvents()
    window.repaint()
    app.processEvents()


def main() -> int:
    global OUT
    parser = argparse.ArgumentParser(description="Render the README's screenshots.")
    parser.add_argument(
        "--only",
        choices=(
            "editor", "training", "runs", "look", "look-training", "import", "trial", "sizes",
            "data",
        ),
        help="render just the editor (and gallery), the training screenshot, the run "
        "switching, confusion and Runs ones, Look inside, its Training tab, the imported "
        "ResNet and import report, try a sample, the first screens at both sizes, or Use "
        "my data… on a messy table",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, help=f"write here instead of {OUT}")
    args = parser.parse_args()
    only = args.only
    if args.out is not None:
        OUT = args.out
    logging.basicConfig(level=logging.INFO)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_theme(app)
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        if only in (None, "editor"):
            render_editor(app, Path(scratch))
        if only in (None, "training"):
            render_training(app, Path(scratch))
        if only in (None, "runs"):
            render_runs(app, Path(scratch))
        if only in (None, "look"):
            render_look_inside(app, Path(scratch))
        if only in (None, "look-training"):
            render_look_training(app, Path(scratch))
        if only in (None, "import"):
            render_import(app, Path(scratch))
        if only in (None, "trial"):
            render_try_a_sample(app, Path(scratch))
        if only in (None, "sizes"):
            render_at_sizes(app, Path(scratch))
        if only in (None, "data"):
            render_use_my_data(app, Path(scratch))
    return 0


def render_editor(app: QApplication, scratch: Path) -> None:
    settings = QSettings(str(scratch / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, recovery_dir=scratch / "recovery")
    window.resize(*SIZE)
    window.show()
    settle(app, window)
    window.open_template(TEMPLATE)
    settle(app, window)
    window.view.fit_all()
    window.focus_node("conv2")  # shows the inspector with a Conv2d's params and doc
    window.view.fit_all()
    settle(app, window)
    window.grab().save(str(OUT / "editor.png"))
    logging.info("wrote %s", OUT / "editor.png")

    gallery = TemplateGallery(window)
    gallery.show()
    settle(app, gallery)
    gallery.grab().save(str(OUT / "gallery.png"))
    logging.info("wrote %s", OUT / "gallery.png")
    gallery.close()
    window.undo_stack.setClean()  # nothing to save: close without asking
    window.close()
    render_wire_drag(app, scratch)
    render_units(app, scratch)


def render_wire_drag(app: QApplication, scratch: Path) -> None:
    """A wire being dragged from conv1's output, the mouse button still held."""
    from PySide6.QtCore import QEvent, QPointF
    from PySide6.QtGui import QMouseEvent

    settings = QSettings(str(scratch / "settings-drag.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, recovery_dir=scratch / "recovery-drag")
    window.resize(1440, 900)
    window.show()
    settle(app, window)
    window.open_template(TEMPLATE)
    settle(app, window)
    view = window.view
    start = window.scene.nodes["conv1"].output.scenePos()
    left = Qt.MouseButton.LeftButton
    for kind, point, button, buttons in (
        (QEvent.Type.MouseButtonPress, start, left, left),
        (QEvent.Type.MouseMove, start + QPointF(60, 60), Qt.MouseButton.NoButton, left),
        (QEvent.Type.MouseMove, start + QPointF(140, 150), Qt.MouseButton.NoButton, left),
    ):
        local = QPointF(view.mapFromScene(point))
        glob = QPointF(view.viewport().mapToGlobal(local.toPoint()))
        event = QMouseEvent(kind, local, glob, button, buttons, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(view.viewport(), event)
    settle(app, window)
    window.grab().save(str(OUT / "wire_drag.png"))
    logging.info("wrote %s", OUT / "wire_drag.png")
    window.undo_stack.setClean()
    window.close()


def render_units(app: QApplication, scratch: Path) -> None:
    """The ResNet template collapsed into its units, then one unit opened inside it."""
    settings = QSettings(str(scratch / "settings-units.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, recovery_dir=scratch / "recovery-units")
    window.resize(1440, 900)
    window.show()
    settle(app, window)
    window.open_template(ROOT / "templates" / "resnet_digits.json")
    settle(app, window)
    window.focus_node("block1")  # the Inspector shows a unit's promoted params
    window.view.fit_all()
    settle(app, window)
    window.grab().save(str(OUT / "units_collapsed.png"))
    logging.info("wrote %s", OUT / "units_collapsed.png")
    # As a double-click does: breadcrumb Project › block2 › ResidualBlock, at the zoom the
    # editor opens a unit with (readable; the row scrolls), and the "values for" picker
    # (block1 and block2 see different inputs).
    window.open_unit("block2")
    window.scene.select_nodes(["conv2"])  # the Inspector shows the promoted channels
    settle(app, window)
    window.grab().save(str(OUT / "unit_opened.png"))
    logging.info("wrote %s", OUT / "unit_opened.png")
    window.undo_stack.setClean()
    window.close()


def render_import(app: QApplication, scratch: Path) -> None:
    """An imported ResNet with its units collapsed; the report of a model that cannot be."""

    os.chdir(ROOT)
    from engine.importers.check import InputSpec
    from engine.importers.from_torch import import_python
    from gui.import_dialog import ImportDialog, adopt

    corpus = ROOT / "tests" / "engine" / "import_corpus"
    settings = QSettings(str(scratch / "settings-import.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, recovery_dir=scratch / "recovery-import")
    window.resize(1440, 900)
    window.show()
    settle(app, window)
    # What File > Import does with the dialog's answer (the dialog itself is below).
    result = import_python(f"{corpus / 'resnet_cifar.py'}:CifarResNet", InputSpec((3, 32, 32)))
    assert result.project is not None, result.report.text()
    adopt(window, result)
    settle(app, window)
    window.focus_node("layer2_0")  # the Inspector shows the promoted out_channels
    window.view.fit_all()
    settle(app, window)
    save(window, "import_resnet_units.png")

    dialog = ImportDialog(window)
    # A path relative to the project folder, as a user in it would type (and the report shows)
    dialog.source.setText(os.path.relpath(corpus / "unsupported.py"))
    dialog.class_name.setText("SpectralGate")
    dialog.shape.setText("16")
    dialog.resize(900, 500)
    dialog.show()
    dialog.run_import()  # the report stays in the open dialog: nothing was imported
    dialog.wait_until_done()  # the model's code runs in a child process
    settle(app, dialog)
    shot = grab_with_dialog(window, dialog)
    shot.save(str(OUT / "import_report.png"))
    logging.info("wrote %s (%d × %d)", OUT / "import_report.png", shot.width(), shot.height())
    dialog.reject()
    window.undo_stack.setClean()
    window.close()


def grab_with_dialog(window, dialog):
    """Offscreen, each top-level window is grabbed alone: lay the dialog over the window."""
    from PySide6.QtGui import QPainter

    shot = window.grab()
    painter = QPainter(shot)
    corner = (shot.width() - dialog.width()) // 2, (shot.height() - dialog.height()) // 3
    painter.drawPixmap(*corner, dialog.grab())
    painter.setPen(dialog.palette().mid().color())  # the frame a window manager would draw
    painter.drawRect(corner[0] - 1, corner[1] - 1, dialog.width() + 1, dialog.height() + 1)
    painter.end()
    return shot


def render_training(app: QApplication, scratch: Path) -> None:
    """Train the CNN+LSTM video template in the window and grab the finished run."""
    from gui.run.preparation import prepare_for_training

    os.environ["NETLOOM_DATA_DIR"] = str(scratch / "data")  # runs stay out of the profile
    prepare_for_training()
    settings = QSettings(str(scratch / "settings-training.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, recovery_dir=scratch / "recovery-training")
    window.resize(*SIZE)
    window.show()
    settle(app, window)
    window.open_template(TEMPLATE)
    ui = window.training
    window.resizeDocks([ui.curves_dock], [int(SIZE[1] * 0.42)], Qt.Orientation.Vertical)
    settle(app, window)
    ui.start()
    began = time.perf_counter()
    while ui.last_outcome is None or ui.steps.pending:
        if time.perf_counter() - began > RUN_TIMEOUT_S:
            raise SystemExit("the training run did not end in time")
        app.processEvents()
        time.sleep(0.02)
    logging.info("run ended: %s", ui.last_outcome.reason)
    ui.results.trial.index.setValue(3)  # a sample other than the first
    wait_until(app, lambda: ui.results.trial.saliency.looks, "the saliency of sample 3")
    ui.curves.show_readout(3.0)  # the crosshair read-out, as when the pointer is there
    window.view.fit_all()
    settle(app, window)
    window.grab().save(str(OUT / "training.png"))
    logging.info("wrote %s", OUT / "training.png")
    window.undo_stack.setClean()
    window.close()


def train_in(app: QApplication, window, epochs: int) -> None:
    """Press Train with `epochs` epochs and wait until the views show the outcome."""
    ui = window.training
    ui.edit_training({**window.project.training, "epochs": epochs}, "screenshot epochs")
    ui.last_outcome = None
    ui.start()
    began = time.perf_counter()
    while ui.last_outcome is None or ui.steps.pending:
        if time.perf_counter() - began > RUN_TIMEOUT_S:
            raise SystemExit("the training run did not end in time")
        app.processEvents()
        time.sleep(0.02)
    logging.info("run ended: %s", ui.last_outcome.reason)


def save(widget, name: str) -> None:
    widget.grab().save(str(OUT / name))
    logging.info("wrote %s (%d × %d)", OUT / name, widget.width(), widget.height())


def render_runs(app: QApplication, scratch: Path) -> None:
    """A finished video run, then CNN digits opened; a digits run; both in Runs."""
    from gui.run.preparation import prepare_for_training

    os.environ["NETLOOM_DATA_DIR"] = str(scratch / "data-runs")
    prepare_for_training()
    settings = QSettings(str(scratch / "settings-runs.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, recovery_dir=scratch / "recovery-runs")
    window.resize(*WINDOW_SIZES[0])
    window.show()
    settle(app, window)
    ui = window.training
    window.open_template(TEMPLATE)
    train_in(app, window, 3)
    ui.curves.show_readout(2.4)
    settle(app, window)
    save(window, "video-run-finished.png")
    window.undo_stack.setClean()
    window.open_template(DIGITS)  # the video run's numbers must all be gone
    settle(app, window)
    save(window, "switched-to-digits.png")
    train_in(app, window, 3)
    ui.results.trial.index.setValue(4)
    settle(app, window)
    save(window, "digits-run.png")
    save(ui.results, "confusion-10-classes.png")
    ui.runs_dock.show()
    ui.runs_dock.raise_()
    settle(app, window)
    for record in ui.runs.records.values():
        ui.runs.set_ticked(record.id)
    for width, height in WINDOW_SIZES:
        window.resize(width, height)
        settle(app, window)
        if window.width() != width:
            logging.warning("the window is %d px wide, not %d", window.width(), width)
        save(window, f"runs-{width}x{height}.png")
    window.undo_stack.setClean()
    window.close()


def render_look_inside(app: QApplication, scratch: Path) -> None:
    """Look inside: conv1 of a trained CNN digits net, then the LSTM's time lens."""
    from gui.run.preparation import prepare_for_training

    os.environ["NETLOOM_DATA_DIR"] = str(scratch / "data-look")
    prepare_for_training()
    settings = QSettings(str(scratch / "settings-look.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, recovery_dir=scratch / "recovery-look")
    window.resize(*WINDOW_SIZES[0])
    window.show()
    settle(app, window)
    ui = window.training
    for template, node, epochs, name in (
        (DIGITS, "conv1", 3, "look_inside_conv1.png"),
        (ROOT / "templates" / "lstm_adding.json", "lstm1", 0, "look_inside_lens.png"),
    ):
        window.open_template(template)
        if epochs:
            train_in(app, window, epochs)
        ui.look_dock.show()
        ui.look_dock.raise_()
        window.resizeDocks([ui.look_dock], [int(WINDOW_SIZES[0][1] * 0.6)], Qt.Orientation.Vertical)
        window.resizeDocks([window.summary_dock, ui.look_dock], [1, 3], Qt.Orientation.Horizontal)
        window.scene.select_nodes([node])
        began = time.perf_counter()
        while ui.look.shown_request is None or ui.look.shown_request.node != node:
            if time.perf_counter() - began > RUN_TIMEOUT_S:
                raise SystemExit("Look inside did not answer in time")
            app.processEvents()
            time.sleep(0.02)
        settle(app, window)
        save(window, name)
    window.undo_stack.setClean()
    window.close()


def render_look_training(app: QApplication, scratch: Path) -> None:
    """Look inside's Training tab, open while rnn_adding trains 3 epochs."""
    from gui.run.preparation import prepare_for_training

    os.environ["NETLOOM_DATA_DIR"] = str(scratch / "data-look-training")
    prepare_for_training()
    settings = QSettings(str(scratch / "settings-lt.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, recovery_dir=scratch / "recovery-lt")
    window.resize(*WINDOW_SIZES[0])
    window.show()
    settle(app, window)
    ui = window.training
    window.open_template(ROOT / "templates" / "rnn_adding.json")
    ui.look_dock.show()
    ui.look_dock.raise_()
    ui.look_tabs.setCurrentWidget(ui.inside)  # open while training: histograms are taken
    train_in(app, window, 3)
    window.resizeDocks([ui.look_dock], [int(WINDOW_SIZES[0][1] * 0.45)], Qt.Orientation.Vertical)
    window.resizeDocks([window.summary_dock, ui.look_dock], [1, 2], Qt.Orientation.Horizontal)
    ui.inside.histograms.kind.setCurrentIndex(1)  # outputs

    def save_training_tab(name: str) -> None:
        ui.look_dock.raise_()
        ui.look_tabs.setCurrentWidget(ui.inside)
        ui.inside.flow.measure.setCurrentIndex(2)  # gradient through time
        settle(app, window)
        ui.inside.flow.redraw()
        settle(app, window)
        save(window, name)

    save_training_tab("look_inside_training.png")
    # The same run restored from the Runs history: its flow and histograms come back.
    window.undo_stack.setClean()
    ui.restore(ui.last_outcome.run_id)
    wait_until(app, lambda: ui.current.kind == "restored" and not ui.steps.pending, "restore")
    save_training_tab("look_inside_restored.png")
    window.undo_stack.setClean()
    window.close()


def wait_until(app: QApplication, ready, what: str) -> None:
    began = time.perf_counter()
    while not ready():
        if time.perf_counter() - began > RUN_TIMEOUT_S:
            raise SystemExit(f"{what} did not happen in time")
        app.processEvents()
        time.sleep(0.02)


def render_try_a_sample(app: QApplication, scratch: Path) -> None:
    """Try a sample: where the digits and video nets look; the FCN at 64×64."""
    from gui.run.preparation import prepare_for_training

    os.environ["NETLOOM_DATA_DIR"] = str(scratch / "data-trial")
    prepare_for_training()
    settings = QSettings(str(scratch / "settings-trial.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, recovery_dir=scratch / "recovery-trial")
    window.resize(*WINDOW_SIZES[0])
    window.show()
    settle(app, window)
    ui = window.training
    trial = ui.results.trial
    # Trained long enough to look at a model that works (the video net jumps from chance
    # at epoch 3; the FCN's masks are blobs before ~15 epochs).
    for template, epochs, sample, name in (
        (DIGITS, 8, 4, "try_a_sample_saliency.png"),
        (TEMPLATE, 5, 2, "try_a_sample_saliency_frames.png"),
        (ROOT / "templates" / "fcn_segmentation.json", 20, 2, "try_a_sample_any_size.png"),
    ):
        window.open_template(template)
        train_in(app, window, epochs)
        ui.results_dock.show()
        ui.results_dock.raise_()
        height = int(WINDOW_SIZES[0][1] * 0.55)
        window.resizeDocks([ui.results_dock], [height], Qt.Orientation.Vertical)
        window.resizeDocks(
            [window.summary_dock, ui.results_dock], [2, 3], Qt.Orientation.Horizontal
        )
        trial.index.setValue(sample)
        if trial.saliency.isVisibleTo(trial):
            wait_until(app, lambda: trial.saliency.view.kind == "saliency", "saliency")
        else:
            wait_until(app, lambda: trial.size_picker.combo.count() > 0, "the size picker")
            trial.size_picker.choose(64)
            wait_until(app, lambda: "64×64 image" in trial.answer.text(), "the 64×64 mask")
        window.view.fit_all()
        settle(app, window)
        save(window, name)
    # The Inspector names the FCN's free input sizes.
    window.open_template(ROOT / "templates" / "fcn_segmentation.json")
    window.inspector_dock.raise_()
    window.scene.select_nodes(["image"])
    settle(app, window)
    save(window, "inspector_free_sizes.png")
    window.undo_stack.setClean()
    window.close()


DOCS_SHOTS = ROOT / "docs" / "screenshots"


def render_at_sizes(app: QApplication, scratch: Path) -> None:
    """The first screens a newcomer meets, each at 1280×800 and 1440×900 (docs/screenshots)."""
    from gui.run.preparation import prepare_for_training

    os.environ["NETLOOM_DATA_DIR"] = str(scratch / "data-sizes")
    prepare_for_training()
    DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
    settings = QSettings(str(scratch / "settings-sizes.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, recovery_dir=scratch / "recovery-sizes")
    window.show()
    settle(app, window)
    ui = window.training

    def shoot(name: str, prepare=None) -> None:
        for width, height in WINDOW_SIZES:
            window.resize(width, height)
            settle(app, window)
            if prepare is not None:
                prepare()
                settle(app, window)
            path = DOCS_SHOTS / f"{name}-{width}x{height}.png"
            window.grab().save(str(path))
            logging.info("wrote %s", path)

    def open_as_user(template: Path, width: int, height: int) -> None:
        window.resize(width, height)
        settle(app, window)
        window.open_template(template)  # opening fits the graph to the view
        settle(app, window)

    for width, height in WINDOW_SIZES:  # opened at each size, as a user would see it
        open_as_user(TEMPLATE, width, height)
        path = DOCS_SHOTS / f"editor-{width}x{height}.png"
        window.grab().save(str(path))
        logging.info("wrote %s", path)
    train_in(app, window, 3)
    ui.results.trial.index.setValue(2)
    wait_until(app, lambda: ui.results.trial.saliency.looks, "the saliency of sample 2")

    def results() -> None:
        ui.results_dock.show()
        ui.results_dock.raise_()

    shoot("results", results)

    def trial() -> None:
        results()
        window.resizeDocks(
            [ui.results_dock], [int(window.height() * 0.55)], Qt.Orientation.Vertical
        )

    shoot("try-a-sample", trial)
    window.undo_stack.setClean()
    window.open_template(ROOT / "templates" / "lstm_adding.json")
    train_in(app, window, 1)

    def look() -> None:
        ui.look_dock.show()
        ui.look_dock.raise_()
        window.scene.select_nodes(["lstm1"])
        wait_until(
            app,
            lambda: ui.look.shown_request is not None and ui.look.shown_request.node == "lstm1",
            "Look inside on lstm1",
        )

    shoot("look-inside-lstm", look)

    def runs() -> None:
        ui.runs_dock.show()
        ui.runs_dock.raise_()
        for record in ui.runs.records.values():
            ui.runs.set_ticked(record.id)

    shoot("runs", runs)
    window.undo_stack.setClean()

    # File > Import Model… on the import corpus' CIFAR ResNet: the report after the import.
    from gui.import_dialog import ImportDialog

    corpus = ROOT / "tests" / "engine" / "import_corpus"
    dialog = ImportDialog(window)
    dialog.source.setText(str(corpus / "resnet_cifar.py"))
    dialog.class_name.setText("CifarResNet")
    dialog.shape.setText("3,32,32")
    dialog.show()
    dialog.run_import()
    dialog.wait_until_done()
    for width, height in WINDOW_SIZES:
        window.resize(width, height)
        dialog.resize(min(900, width - 200), min(560, height - 160))
        settle(app, window)
        settle(app, dialog)
        path = DOCS_SHOTS / f"import-dialog-{width}x{height}.png"
        grab_with_dialog(window, dialog).save(str(path))
        logging.info("wrote %s", path)
    dialog.accept()
    window.undo_stack.setClean()
    window.close()


def write_messy_table(path: Path) -> None:
    """Breast cancer as a spreadsheet in a ';' country saves it: decimal commas, a
    patient_id, a clinic column, text labels and some empty cells."""
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    names = [str(n) for n in data.feature_names[:8]]
    lines = [";".join(["patient_id", *names, "clinic", "diagnosis"])]
    for i, (row, label) in enumerate(zip(data.data, data.target)):
        cells = [
            f"{v:.4g}".replace(".", ",") if (i * 7 + j) % 23 else "" for j, v in enumerate(row[:8])
        ]
        clinic = ("North", "South", "East")[i % 3]
        lines.append(";".join([str(84000 + i), *cells, clinic, data.target_names[label]]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def render_use_my_data(app: QApplication, scratch: Path) -> None:
    """File → Use my data… on a messy table over the MLP template, at both sizes."""
    from gui.data.ui import open_use_data

    DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
    table = scratch / "patients.csv"
    write_messy_table(table)
    settings = QSettings(str(scratch / "settings-data.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, recovery_dir=scratch / "recovery-data")
    window.show()
    window.open_template(ROOT / "templates" / "mlp_iris.json")
    settle(app, window)
    dialog = open_use_data(window, table)
    wait_until(app, lambda: not dialog.pending, "the verdict of Use my data…")
    for width, height in WINDOW_SIZES:
        window.resize(width, height)
        dialog.resize(min(dialog.width(), width - 80), min(dialog.height(), height - 60))
        settle(app, window)
        settle(app, dialog)
        path = DOCS_SHOTS / f"use-my-data-{width}x{height}.png"
        grab_with_dialog(window, dialog).save(str(path))
        logging.info("wrote %s", path)
    dialog.reject()
    window.undo_stack.setClean()
    window.close()


if __name__ == "__main__":
    sys.exit(main())
