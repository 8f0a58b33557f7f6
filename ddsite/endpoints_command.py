"""`ddsite endpoints from-har FILE.har`: write an endpoints file from calls recorded in a browser."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TextIO

from .deskdirector import endpoints as endpoint_table
from .deskdirector.har import HOW_TO_RECORD, HarError, Matching, match, read_har

AUDIENCE_WORDS = {"portal": "a contact's (client portal)", "tech": "an agent's (TECH)"}


def add_parser(commands) -> None:
    """Register `endpoints from-har` on the `ddsite` command."""
    endpoints = commands.add_parser("endpoints", help="work with the endpoint table")
    actions = endpoints.add_subparsers(dest="endpoints_command", required=True)
    from_har = actions.add_parser(
        "from-har", help="learn the endpoint table from a HAR recorded in DeskDirector",
        description="Record a HAR in the browser's developer tools (Network tab, “Save all as "
                    "HAR”) while you open DeskDirector's ticket list, a ticket, and add a reply; "
                    "this writes the endpoints file ddsite needs for that instance. Tokens, "
                    "cookies and headers in the HAR are never copied.",
        epilog="Exit status: 0 written; 1 the HAR holds nothing usable; 2 the HAR cannot be read "
               "or the output exists.")
    from_har.add_argument("har", help="the .har file")
    from_har.add_argument("-o", "--output", default="endpoints.json",
                          help="where to write the endpoints file (default endpoints.json)")
    existing = from_har.add_mutually_exclusive_group()
    existing.add_argument("--force", action="store_true", help="replace an existing output file")
    existing.add_argument("--update", action="store_true",
                          help="add what this HAR teaches to an existing output file (e.g. the "
                               "TECH recording after the portal one); its other entries stay")
    from_har.add_argument("--audience", choices=("portal", "tech"),
                          help="whose calls these are, when the HAR has no who-am-I reply")


def run(args: argparse.Namespace, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Write the endpoints file and print what matched.

    Exit status, as `ddsite probe` uses them: 0 written; 1 when what was given holds nothing
    usable (not a HAR, no call ddsite knows, an endpoints file of another dialect); 2 when it
    cannot start (the HAR cannot be read, or the output exists without --force or --update).
    """
    out, err = out or sys.stdout, err or sys.stderr
    output = Path(args.output)
    if output.exists() and not (args.force or args.update):
        print(f"ddsite endpoints: {output} exists; choose another --output, add --update to "
              "add to it, or --force to replace it", file=err)
        return 2
    try:
        text = Path(args.har).read_text(encoding="utf-8-sig")
    except OSError as exc:
        print(f"ddsite endpoints: cannot read {args.har}: {exc.strerror}", file=err)
        return 2
    except UnicodeDecodeError:
        print(f"ddsite endpoints: {args.har} is not a text file; a HAR is JSON", file=err)
        return 1
    try:
        matching = match(read_har(text), args.audience)
    except HarError as exc:
        print(f"ddsite endpoints: {args.har}: {exc}", file=err)
        return 1
    overrides = matching.overrides()
    if args.update and output.exists():
        try:
            overrides = _updated(output, overrides)
        except endpoint_table.EndpointsFileError as exc:
            print(f"ddsite endpoints: {exc}; nothing written", file=err)
            return 1
    try:
        _write(output, overrides)
    except endpoint_table.EndpointsFileError as exc:
        print(f"ddsite endpoints: the paths learned cannot be used ({exc}); nothing written",
              file=err)
        return 1
    _report(out, args.har, output, matching)
    return 0


def _updated(output: Path, learned: dict[str, str]) -> dict[str, str]:
    """The existing file's entries with the learned ones over them (same dialect only)."""
    endpoint_table.load(str(output))  # the file must be one the site accepts
    current = json.loads(output.read_text(encoding="utf-8"))
    if current.get("dialect", "v2") != learned["dialect"]:
        raise endpoint_table.EndpointsFileError(
            f"{output} is for the {current.get('dialect', 'v2')} dialect and this HAR speaks "
            f"{learned['dialect']}; one instance speaks one dialect")
    return {**current, **learned}


def _write(output: Path, overrides: dict[str, str]) -> None:
    # Written beside the target and checked by the same loader the site uses, then moved into
    # place, so a file the site would refuse never lands where DDSITE_ENDPOINTS_FILE points.
    partial = output.with_name(output.name + ".partial")
    partial.write_text(json.dumps(overrides, indent=2) + "\n", encoding="utf-8")
    try:
        endpoint_table.load(str(partial))
    except endpoint_table.EndpointsFileError:
        partial.unlink()
        raise
    os.replace(partial, output)


def _report(out: TextIO, har: str, output: Path, matching: Matching) -> None:
    print(f"Read {matching.calls} calls from {har} ({matching.json_calls} with JSON replies); "
          f"DeskDirector's API answered at {', '.join(matching.origins)}.", file=out)
    print(f"These are {AUDIENCE_WORDS[matching.audience]} calls ({matching.audience_source}), "
          f"in the {matching.dialect} dialect.", file=out)
    print("Matched:", file=out)
    for name, endpoint in sorted(matching.matched.items()):
        seen = matching.seen[name]
        line = f"  {name:<22} {endpoint.method} {endpoint.path}  ({seen} call{'s' * (seen > 1)})"
        others = matching.alternatives.get(name)
        if others:
            line += "; also seen: " + ", ".join(f"{e.method} {e.path}" for e in others)
        print(line, file=out)
    if matching.missing:
        print("Not in the HAR (the table's default stays):", file=out)
        for name in matching.missing:
            print(f"  {name:<22} to record it: {HOW_TO_RECORD[name.rpartition('.')[2]]}",
                  file=out)
    if matching.unrecognised:
        shown = matching.unrecognised[:5]
        more = len(matching.unrecognised) - len(shown)
        print(f"Not recognised: {', '.join(shown)}" + (f" and {more} more" if more else ""),
              file=out)
    print(f"Wrote {output}. Point DDSITE_ENDPOINTS_FILE at it; DDSITE_DESKDIRECTOR_HOSTS must "
          f"list {' and '.join(matching.origins)}. Then check with `ddsite probe`.", file=out)
