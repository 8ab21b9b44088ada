"""config.yaml: read, validated key by key, into the core's settings."""

from ..core.durations import parse_duration
from ..core.settings import (
    DEFAULT_PORT,
    Config,
    Deadline,
    Goal,
    HotkeysConfig,
    ObsConfig,
    ObsScenes,
    ServerConfig,
    Step,
    is_loopback_host,
)
from .load import ConfigError, load_config, parse_config

__all__ = [
    "DEFAULT_PORT", "Config", "ConfigError", "Deadline", "Goal", "HotkeysConfig", "ObsConfig",
    "ObsScenes", "ServerConfig", "Step", "is_loopback_host", "load_config", "parse_config",
    "parse_duration",
]
