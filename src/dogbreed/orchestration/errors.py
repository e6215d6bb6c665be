"""The one error type of the launcher: a problem the user can fix."""

from __future__ import annotations


class LauncherError(Exception):
    """A problem the user can fix; the CLI prints it as one line and exits 2."""
