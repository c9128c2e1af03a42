"""The API's own description: GET /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any

from vendor_api import bp
from vendor_api.schemas.cases import CASE_SCHEMA

PROBLEM = {
    "type": "object",
    "properties": {k: {"type": "string"} for k in ("type", "title", "detail", "code")} | {"status": {"type": "integer"}},
}


def openapi_document() -> dict[str, Any]:
    problem_response = {"description": "Problem", "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "agency-portal vendor API", "version": "1"},
        "servers": [{"url": "/api/v1"}],
        "security": [{"token": []}],
        "components": {
            "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Case": CASE_SCHEMA, "Problem": PROBLEM},
        },
        "paths": {
            "/cases": {"get": {
                "summary": "Cases currently placed with the caller's agency",
                "parameters": [
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}},
                    {"name": "after", "in": "query", "schema": {"type": "string", "format": "uuid"}},
                ],
                "responses": {"200": {"description": "A page of cases", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Case"}}, "next": {"type": "string"}}}}}},
                    "400": problem_response, "401": problem_response},
            }},
            "/cases/{case_id}": {"get": {
                "summary": "One case placed with the caller's agency",
                "parameters": [{"name": "case_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "The case", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Case"}}}},
                              "401": problem_response, "404": problem_response},
            }},
        },
    }


@bp.get("/openapi.json")
def openapi() -> Any:
    return openapi_document()
