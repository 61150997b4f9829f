"""Inspect tasks the example framework ships for the authority's own runs (offline, small).

Each task file is named in the framework with the SHA-256 of its bytes and of its dataset, so that
`clearance evaluate` runs exactly what the framework says. They are Inspect task files: run them
with `clearance evaluate APPLICATION --task NAME`, or with `inspect eval FILE` directly.
"""
