"""``torchrun ... -m harness.measure.distributed ...``: see harness.measure.distributed.entry."""

import sys

from harness.measure.distributed.entry import main

if __name__ == "__main__":
    sys.exit(main())
