"""Buying-group marketing data platform: Dagster assets from raw CRM / marketing extracts to journeys."""
