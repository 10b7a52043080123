"""Developer and operator scripts; importable as `scripts.<name>` (pytest has `.` on its path)."""
