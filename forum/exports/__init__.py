"""Exports: summary reports (Markdown, PDF, HTML) and data (CSV, JSON) of a thread, topic,
breakout room, consultation or event. `scope.resolve` decides what an export covers and who
may have it; the other modules write it."""
