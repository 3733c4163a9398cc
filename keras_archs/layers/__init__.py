"""Shared building blocks: plain functions `(x, ..., name) -> x` and a few custom layers."""
