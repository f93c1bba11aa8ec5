"""Operational scripts run by CI and by hand (see docs/ci.md)."""
