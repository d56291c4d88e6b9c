from counterpoint.cli import main

raise SystemExit(main())
