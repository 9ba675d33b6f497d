"""``torchrun ... -m harness.measure.distributed ...``: see harness.measure.distributed.entry."""

import sys

from harness.measure.distributed.entry import main

sys.exit(main())
