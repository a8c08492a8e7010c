"""Notebook widgets (ipywidgets): pick a model, tune it in a form built from its schema, stream a prompt,
compare models side by side, look at every sample of an eval run (RunView). Imported only from here —
`import llmkit` never loads ipywidgets.

    from llmkit.widgets import Playground
    Playground()
"""

from __future__ import annotations

from llmkit.widgets.compare import CompareView
from llmkit.widgets.form import ConfigForm
from llmkit.widgets.picker import ModelPicker
from llmkit.widgets.playground import Playground
from llmkit.widgets.runview import RunView

__all__ = ["CompareView", "ConfigForm", "ModelPicker", "Playground", "RunView"]
