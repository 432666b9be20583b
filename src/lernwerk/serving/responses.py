"""JSON answers that never hold NaN or infinity (they become null), as the contract says."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
from fastapi.responses import JSONResponse


def finite(value: Any) -> Any:
    """`value` with every NaN or ±inf float replaced by None, numpy scalars made plain."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    if isinstance(value, np.generic):
        return finite(value.item())
    if isinstance(value, np.ndarray):
        return finite(value.tolist())
    return value


def dumps(value: Any) -> str:
    """Compact JSON of `value`, non-finite floats as null."""
    return json.dumps(finite(value), ensure_ascii=False, allow_nan=False, separators=(",", ":"))


class SafeJSONResponse(JSONResponse):
    """The app's default response: JSON with NaN and infinity as null."""

    def render(self, content: Any) -> bytes:
        return dumps(content).encode("utf-8")
