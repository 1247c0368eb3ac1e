"""`python -m hvmem` is the same as the `hvmem` command."""

from hvmem.cli import main

raise SystemExit(main())
