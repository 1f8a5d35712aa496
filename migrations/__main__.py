import logging
import sys

from migrations import upgrade_head

logging.basicConfig(level=logging.INFO, format="%(message)s")
upgrade_head(sys.argv[1] if len(sys.argv) > 1 else None)
print("pol_/tkt_ schema at head")
