"""The `kcolor` command line (`kcolor.cli.main`) and its helpers."""
