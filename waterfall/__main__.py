import sys

try:
    from .cli import main
except KeyboardInterrupt:  # Ctrl-C while the libraries are still importing: stop as main() would
    sys.stderr.write("interrupted\n")
    sys.exit(130)

sys.exit(main())
