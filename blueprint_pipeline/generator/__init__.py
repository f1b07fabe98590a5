"""Synthetic landing data in the real export formats, deterministic for a seed, streamed to disk."""
