"""Process settings, read once from the environment.

Every knob is an environment variable so the same image runs on a laptop, in CI and in a
territory's own data centre; defaults are the embedded development set-up of ``make run``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MAIN_SERVER = "main"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    unityplan_env: Literal["development", "test", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1

    # The main server holds `global` and, unless the registry says otherwise, new territories.
    database_url: str = "postgresql://postgres@127.0.0.1:5432/unityplan"
    # Further database servers by key: DATABASE_SERVERS='{"eu2": "postgresql://.../unityplan"}'.
    database_servers: dict[str, str] = Field(default_factory=dict)
    database_pool_size: int = 10
    database_pool_timeout: float = 10.0

    nats_url: str = "nats://127.0.0.1:4222"
    redis_url: str = "redis://127.0.0.1:6379/0"

    @field_validator("database_servers")
    @classmethod
    def _main_is_reserved(cls, value: dict[str, str]) -> dict[str, str]:
        if MAIN_SERVER in value:
            raise ValueError(f"'{MAIN_SERVER}' is DATABASE_URL's key; name other servers otherwise")
        return value

    def servers(self) -> dict[str, str]:
        """Every database server by key, the main one included."""
        return {MAIN_SERVER: self.database_url, **self.database_servers}


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
