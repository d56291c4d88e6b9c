import os
import sys

# `python -m counterpoint` puts the current directory first on sys.path: in a repository
# that has a package of the name of one Counterpoint uses (pydantic, rich, textual…), the
# repository's would be imported instead. The console script does not; nor does this.
if not sys.flags.safe_path and sys.path and os.path.realpath(sys.path[0] or os.curdir) == os.path.realpath(os.getcwd()):
    del sys.path[0]

from counterpoint.cli import main

raise SystemExit(main())
