"""``python -m stacks.config schema | check PATH``: the JSON Schema, or one file checked."""

from __future__ import annotations

import json
import sys

from stacks.config._base import ConfigError
from stacks.config.loading import internal_problem, load_config
from stacks.config.model import json_schema


def main(argv: list[str]) -> int:
    if argv[1:] == ["schema"]:
        print(json.dumps(json_schema(), indent=2, sort_keys=True))
        return 0
    if len(argv) == 3 and argv[1] == "check":
        try:
            load_config(argv[2])
        except ConfigError as error:
            print(error, file=sys.stderr)
            return 1
        except Exception as error:  # a bug here, not in the file: still no traceback for the user
            print(f"config error: {argv[2]}: {internal_problem(error)}", file=sys.stderr)
            return 1
        print(f"{argv[2]}: valid")
        return 0
    print("usage: python -m stacks.config schema | check PATH", file=sys.stderr)
    return 2
