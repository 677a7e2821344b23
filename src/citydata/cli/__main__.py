import sys

from citydata.cli.main import main

sys.exit(main())
