from kcolor.cli.main import main

raise SystemExit(main())
