"""The setup page: config.yaml, OBS, scenes, hotkeys and Twitch, set up from the browser."""
