"""Steps for the apply tests: a point that fails on its first attempt only."""

from pathlib import Path

from batchrun import version


@version("1.0.0")
def flaky(marker: str, value: int = 0) -> int:
    """Fail the first time a marker file is seen, succeed afterwards (for retries)."""
    path = Path(marker)
    if not path.exists():
        path.write_text("failed once", encoding="utf-8")
        raise RuntimeError(f"first attempt fails on purpose ({path.name})")
    return value
