"""The process heatmap (流程热力图): the newest diagram of a process with, for each user task, the
figures the page colours it by — average and 90th-percentile working days of the steps finished
in the period, the share of them finished late, and what stands open there now."""

from __future__ import annotations

from typing import Any

from .dashboard_diagrams import ProcessDiagram
from .dashboard_metrics import StepFigures
from .dashboard_views import step_view


def heatmap_view(
    diagram: ProcessDiagram, steps: dict[tuple[str, str], StepFigures]
) -> dict[str, Any]:
    elements = []
    for element_id, name in diagram.steps.items():
        figures = steps.get((diagram.process_id, element_id))
        view = step_view(figures or StepFigures(diagram.process_id, element_id), name)
        view["id"] = element_id
        elements.append(view)
    ranked = [e["avg_workdays"] for e in elements if e["avg_workdays"] is not None]
    return {
        "process_id": diagram.process_id,
        "process_name": diagram.name,
        "xml": diagram.xml,
        "elements": elements,
        "max_avg_workdays": max(ranked) if ranked else None,
        "max_p90_workdays": max(
            (e["p90_workdays"] for e in elements if e["p90_workdays"] is not None), default=None
        ),
    }
