import sys

from apsq_rae.cli import main

sys.exit(main())
