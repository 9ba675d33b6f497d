"""Presentation: tables, exports and plots. Reads results; never counts or measures."""
