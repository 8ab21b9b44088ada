"""HTTP and WebSocket door: /api/commands, /api/state, /ws."""
