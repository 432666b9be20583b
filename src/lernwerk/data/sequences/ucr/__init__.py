"""The vendored UCR/UEA time-series sets: `UCR_SETS` describes them, `load_ucr` reads one.

The `.ts.gz` files and their README (origin, licence, citations) lie in this package's
folder and ship as package data.
"""

from __future__ import annotations

from importlib import resources

from lernwerk.data.sequences.series import SequenceSet, _decode, _match_pair
from lernwerk.data.sequences.ts_format import _parse_ts
from lernwerk.data.sequences.ucr_sets import UCR_SETS
from lernwerk.errors import NotFound


def load_ucr(name: str) -> tuple[SequenceSet, SequenceSet]:
    """The vendored UCR/UEA set `name` (see `UCR_SETS`) as (train, test).

    Raises:
        NotFound: No vendored set of that name.
    """
    known = {key.lower(): key for key in UCR_SETS}
    if name.lower() not in known:
        raise NotFound(
            f"Expected one of the vendored UCR sets {', '.join(UCR_SETS)}; received {name!r}",
            "ucr",
        )
    name = known[name.lower()]
    folder = resources.files(__name__)  # this package's own folder
    pair = []
    for split in ("TRAIN", "TEST"):
        resource = folder.joinpath(f"{name}_{split}.ts.gz")
        seqset = _parse_ts(
            _decode(resource.read_bytes(), resource.name), resource.name, str(resource)
        )
        seqset.meta.update(ucr=name, description=UCR_SETS[name]["description"])
        pair.append(seqset)
    return pair[0], _match_pair(pair[0], pair[1], pair[1].meta["source"])
