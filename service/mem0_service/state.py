"""Typed application state shared by the app factory, middlewares and handlers."""

from __future__ import annotations

from aiohttp import web

from mem0_service.config import Settings
from mem0_service.core.job_runner import JobRunner
from mem0_service.core.ports import RecordStore
from mem0_service.core.service import MemoryService

SETTINGS = web.AppKey("settings", Settings)
SERVICE = web.AppKey("service", MemoryService)
# The record store itself, not timed: the key and webhook stores reach its database through it.
RECORDS = web.AppKey("records", RecordStore)
JOBS = web.AppKey("jobs", JobRunner)
