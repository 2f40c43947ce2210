"""Subcommands that live in their own modules. Each module listed in
`waterfall.cli.COMMAND_MODULES` has `register(subparsers)`, which adds its parser and
sets `func` (a callable taking the parsed args and returning an exit status)."""
