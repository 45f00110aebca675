"""Settings travel through the typer context: built once in the root callback."""

from __future__ import annotations

import typer

from dxpulse.settings import Settings


def settings_of(ctx: typer.Context) -> Settings:
    """The :class:`Settings` the root command built for this invocation."""
    root = ctx.find_root()
    settings = root.obj
    if not isinstance(settings, Settings):  # pragma: no cover - wiring error
        raise RuntimeError("dxpulse CLI context has no Settings")
    return settings
