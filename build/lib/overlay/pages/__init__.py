"""What people look at: overlays, the control dock, /history, their templates and static files."""
