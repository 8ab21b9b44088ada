"""The Twitch chat door: login (device code flow), EventSub for reading, Helix for replying."""
