"""insitu tui: the Textual chat app (screens, widgets, styles)."""
