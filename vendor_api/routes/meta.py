"""The API's own description: GET /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any

from vendor_api import bp
from vendor_api.schemas.cases import CASE_SCHEMA
from vendor_api.schemas.recalls import PAYMENT_REPORT_IN, RECALL_SCHEMA

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
            "schemas": {"Case": CASE_SCHEMA, "Recall": RECALL_SCHEMA, "PaymentReportIn": PAYMENT_REPORT_IN,
                        "Problem": PROBLEM},
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
            "/recalls": {"get": {
                "summary": "Recalls of the caller's placements not yet acknowledged",
                "responses": {"200": {"description": "Recalls", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Recall"}}}}}}},
                    "401": problem_response},
            }},
            "/placements/{placement_id}/acknowledge": {"post": {
                "summary": "Acknowledge a recall: the agency has stopped work on the case",
                "parameters": [{"name": "placement_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "Acknowledged", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Recall"}}}},
                              "401": problem_response, "404": problem_response, "409": problem_response},
            }},
            "/cases/{case_id}/payments": {"post": {
                "summary": "Report a payment the debtor says they made to the bank",
                "parameters": [{"name": "case_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PaymentReportIn"}}}},
                "responses": {"201": {"description": "Reported"}, "401": problem_response, "404": problem_response,
                              "422": problem_response},
            }},
        },
    }


@bp.get("/openapi.json")
def openapi() -> Any:
    return openapi_document()
