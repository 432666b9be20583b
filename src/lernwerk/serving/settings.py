"""The server's settings: one object, made by `lernwerk serve` or a test, passed to
`create_app`. Nothing is read from globals or the environment here."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

STATIC_DIR = Path(__file__).parent / "static"
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


class Settings(BaseModel):
    """How the web server runs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    workspace: Path = Field(description="the workspace directory the server works in")
    host: str = Field("127.0.0.1", description="the address to bind; others need a token")
    port: int = Field(8000, ge=0, le=65535, description="the TCP port (0: any free one)")
    token: str | None = Field(
        None, min_length=1, description="when set, every request must carry it (401 otherwise)"
    )
    max_upload_bytes: int = Field(
        20 * 1024 * 1024, ge=1, description="the largest request body; larger ones get 413"
    )
    max_concurrent_trainings: int = Field(
        1, ge=1, le=64, description="trainings at once; further ones wait in a queue"
    )
    stop_timeout_s: float = Field(
        10.0, gt=0, description="how long a stopped training may take before it is killed"
    )
    prestart_worker: bool = Field(
        True, description="keep one training process started, so that a run starts at once"
    )
    static_dir: Path = Field(STATIC_DIR, description="the page's files, served at /")
    workshop: bool = Field(
        False, description="a workshop: each participant who joins gets a workspace of their own"
    )

    @property
    def is_local(self) -> bool:
        """Whether the server listens on this machine only."""
        return self.host in LOCAL_HOSTS
