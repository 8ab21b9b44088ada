"""Global hotkeys door (X11, pynput)."""
