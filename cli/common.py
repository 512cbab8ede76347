"""What every command shares: settings read once, a missing one named in one line."""

from __future__ import annotations

import click

from config import Settings, SettingsError, load_settings


def settings_or_exit(*required: str) -> Settings:
    """The settings, or a one-line error naming every variable at fault."""
    try:
        settings = load_settings()
        settings.require(*required)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc
    return settings
