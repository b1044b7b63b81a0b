"""Reading the stack's config from the Pulumi runtime (the only impure step before validation)."""

from __future__ import annotations

from pulumi.runtime import config as runtime_config

from stacks.settings import StackSettings, load_settings


def read_settings() -> StackSettings:
    """The stack settings from the engine's config (or set_all_config under mocks), validated."""
    raw = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    secret_keys = {key for key in raw if runtime_config.is_config_secret(key)}
    secret_keys |= set(runtime_config.get_config_secret_keys_env())
    return load_settings(raw, frozenset(secret_keys))
