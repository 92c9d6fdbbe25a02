#!/usr/bin/python3
"""Entry point: `/usr/bin/python3 serve.py twomemo|oldmemo` answers JSON lines on stdin (see omemo_harness.py)."""
import asyncio
import sys

from omemo_harness import Harness, load_flavor

if __name__ == "__main__":
    asyncio.run(Harness(load_flavor(sys.argv[1] if len(sys.argv) > 1 else "")).serve())
