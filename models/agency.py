"""An agency as the operational store knows it (store/agencies.py): its key, names and reports."""
from __future__ import annotations

from pydantic import BaseModel, Field


class Agency(BaseModel):
    key: str
    name: str = Field(description="the first spelling seen")
    region: str | None = Field(default=None, description="the regions its name begins with")
    spellings: list[str] = Field(default_factory=list, description="every printed name mapped to this key")
    reports: int = Field(default=0, description="current reports with this key")
    years: list[int] = Field(default_factory=list)
    merged_into: str | None = Field(default=None, description="the key an operator joined this one to")
