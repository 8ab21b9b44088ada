"""The pure core: session state machine, command registry, views, scene choice, pacing.

Nothing here does I/O or reads a clock; an import-linter contract holds that (make lint).
"""
