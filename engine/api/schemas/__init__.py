"""Pydantic models of the API contract: request and response bodies, and the one error body."""
