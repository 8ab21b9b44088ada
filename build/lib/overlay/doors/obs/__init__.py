"""OBS door: the obs-websocket link, follow mode, and `obs setup`."""
