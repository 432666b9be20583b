"""A check schemathesis runs beside its own (wired in schemathesis.toml): a request that
`/openapi.json` allows is never refused by the request validation (422 RequestError), so
every constraint the server puts on a request's shape is in the document."""

from __future__ import annotations

import schemathesis


@schemathesis.check
def schema_valid_request_passes_validation(ctx, response, case) -> bool | None:  # noqa: ANN001
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return None
    try:
        error = response.json().get("error")
    except Exception:  # not JSON: the other checks say so
        return None
    if error == "RequestError":
        raise AssertionError(
            "a request the schema allows was refused by request validation: "
            f"{response.json().get('message')}"
        )
    return None
