import sys

from fpga.cli import main

sys.exit(main())
