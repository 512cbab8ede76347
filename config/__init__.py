"""Process configuration: settings read once from the environment, and logging setup.

This package knows nothing of Fluxa's own modules; everything else receives a
`Settings` object instead of reading the environment itself.
"""

from config.settings import Settings, SettingsError, load_settings

__all__ = ["Settings", "SettingsError", "load_settings"]
