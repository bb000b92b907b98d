"""botocore's JSON data files read into plain dicts rather than OrderedDicts.

botocore parses its data files (endpoints.json, each service's model) with `object_pairs_hook=
OrderedDict`, which makes parsing the large ones (endpoints.json, SageMaker's model) much slower
than plain `json.loads` (README: Start-up). Plain dicts keep insertion order too, and botocore
reads this data only as mappings (in order), so the loader `service_models.shared_loader` hands
out reads them so.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from botocore.loaders import JSONFileLoader

# The logger botocore's reader writes to, so that -vv shows the same lines.
logger = logging.getLogger("botocore.loaders")


class PlainJSONFileLoader(JSONFileLoader):
    """botocore's JSONFileLoader (same files, same .json / .json.gz lookup), making dicts."""

    def _load_file(self, full_path: str, open_method: Any) -> Any:
        # botocore's JSONFileLoader._load_file, but for the object_pairs_hook.
        if not Path(full_path).is_file():
            return None
        with open_method(full_path, "rb") as fp:
            payload = fp.read().decode("utf-8")
        logger.debug("Loading JSON file: %s", full_path)
        return json.loads(payload)
