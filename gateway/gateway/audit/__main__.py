import sys

from gateway.audit.cli import main

sys.exit(main(sys.argv[1:]))
