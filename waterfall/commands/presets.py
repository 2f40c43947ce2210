"""`waterfall presets`: the named stress presets, a name a line."""
from __future__ import annotations


def register(subparsers) -> None:
    p = subparsers.add_parser("presets", help="list the stress presets (scenarios/presets/*.toml)",
                              description="List the stress presets, a name a line; with --verbose, "
                                          "each with its description and assumptions.")
    p.add_argument("--verbose", action="store_true", help="also print each preset's description and assumptions")
    p.set_defaults(func=cmd_presets)


def cmd_presets(args) -> int:
    from ..scenarios.presets import load_preset, preset_paths

    for path in preset_paths():
        if not args.verbose:
            print(path.stem)
            continue
        preset = load_preset(path)
        print(f"{path.stem}\t{preset.description}")
        for line in preset.assumptions:
            print(f"  - {line}")
    return 0
