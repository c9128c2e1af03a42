"""A task's progress, as a page and as JSON for the page's progress bar."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, render_template, request
from flask_login import login_required

from portal.tasks import operations as ops
from portal.web.door import actor, db

bp = Blueprint("tasks", __name__, url_prefix="/tasks")


def as_json(task: Any) -> dict[str, Any]:
    return {
        "id": str(task.id), "kind": task.kind, "status": task.status, "total": task.total,
        "done": task.done, "message": task.message, "result": task.result,
    }


@bp.get("/<uuid:task_id>")
@login_required
def show(task_id: uuid.UUID) -> Any:
    task = ops.get_for(db(), actor(), task_id)
    if request.accept_mimetypes.best == "application/json" or request.args.get("format") == "json":
        return as_json(task)
    return render_template("tasks/show.html", task=task)
