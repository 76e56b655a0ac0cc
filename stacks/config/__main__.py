"""``python -m stacks.config schema | check PATH`` (``stacks.config.cli``)."""

import sys

from stacks.config.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv))
