from __future__ import annotations

from typing import Any

from portal.policies.models import Policy
from tests.conftest import csrf_from


def set_policy(db: Any, key: str, value: Any) -> None:
    """Change a policy row, as an administrator would: the rule reads the row, not code."""
    db.get(Policy, key).value = value
    db.flush()


def try_login(client: Any, username: str, password: str) -> Any:
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"csrf_token": token, "username": username, "password": password})


def is_logged_in(client: Any) -> bool:
    response = client.get("/home")
    return response.status_code == 200
