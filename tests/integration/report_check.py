#!/usr/bin/env python3
"""report_check.py: check an `infomorph report --html` page (python3 stdlib only).

Usage: report_check.py FILE [ID CLASS COUNT]... [--absent ID]...

Every inline <svg> must parse as XML and carry an id and a <title>; the page
must hold the Content-Security-Policy that forbids loads from elsewhere and
no reference to another resource; each listed plot ID must have exactly
COUNT elements whose class attribute includes CLASS; each --absent ID must
not be on the page. Exit status 0 when all holds, else 1 with the reasons.
"""
import re
import sys
import xml.etree.ElementTree as ET

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def main(argv):
    path, args = argv[1], argv[2:]
    text = open(path, encoding="utf-8").read()
    errors = []
    if f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' not in text:
        errors.append("no Content-Security-Policy meta element")
    if re.search(r'<(script|link|iframe|object|embed|img)\b', text, re.I):
        errors.append("an element that loads or runs something")
    if re.search(r'(src|href)\s*=\s*"(?!#)', text, re.I):
        errors.append("a reference to another resource (src/href)")
    plots = {}
    for i, m in enumerate(re.finditer(r"<svg\b.*?</svg>", text, re.S)):
        try:
            root = ET.fromstring(m.group(0))
        except ET.ParseError as e:
            errors.append(f"svg {i} is not well-formed XML: {e}")
            continue
        pid = root.get("id")
        if not pid:
            errors.append(f"svg {i} has no id")
            continue
        if root.find("{http://www.w3.org/2000/svg}title") is None:
            errors.append(f"{pid} has no <title>")
        plots[pid] = root
    if text.count("<table") < len(plots):
        errors.append(f"{len(plots)} plots but only {text.count('<table')} tables")
    i = 0
    while i < len(args):
        if args[i] == "--absent":
            if args[i + 1] in plots:
                errors.append(f"{args[i + 1]} is on the page but should not be")
            i += 2
            continue
        pid, cls, want = args[i], args[i + 1], int(args[i + 2])
        i += 3
        if pid not in plots:
            errors.append(f"no plot {pid} (plots: {', '.join(sorted(plots))})")
            continue
        got = sum(1 for e in plots[pid].iter() if cls in (e.get("class") or "").split())
        if got != want:
            errors.append(f"{pid}: {want} elements of class {cls} expected, {got} found")
    for e in errors:
        print(f"report_check: {path}: {e}", file=sys.stderr)
    print(f"report_check: {path}: {len(plots)} plots parsed, {len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
