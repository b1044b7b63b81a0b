#!/usr/bin/env python3
"""Compare a generated docker provider schema.json with the pip SDK pulumi_docker.

Usage: check_schema.py SCHEMA.json SDK_DIR [Prefix ...]
For every class of the SDK whose name starts with one of the prefixes (default:
Container Network Volume Provider), collect the wire names of its properties (the
name= of @pulumi.getter, else the method name) and compare them with the schema's
properties for the matching token. Prints one line per mismatch. SCHEMA-ONLY lines
(properties the SDK never sends, e.g. from a newer upstream) are informational; exit 1
only if the SDK has a token or a property that the schema lacks.
"""

import json
import re
import sys
from pathlib import Path

GETTER = re.compile(r'@pulumi\.getter(?:\(name="([^"]+)"\))?\s*\n\s*def (\w+)\(')
CLASS = re.compile(r"^class (\w+)[(:]", re.M)


def classes(path):
    text = path.read_text()
    heads = list(CLASS.finditer(text))
    for i, m in enumerate(heads):
        body = text[m.end() : heads[i + 1].start() if i + 1 < len(heads) else len(text)]
        yield m.group(1), {g.group(1) or g.group(2) for g in GETTER.finditer(body)}


def lower_first(s):
    return s[:1].lower() + s[1:]


def main():
    schema = json.loads(Path(sys.argv[1]).read_text())
    sdk = Path(sys.argv[2])
    prefixes = sys.argv[3:] or ["Container", "Network", "Volume", "Provider"]
    res, types, bad, extra, seen = schema.get("resources", {}), schema.get("types", {}), 0, 0, 0

    def compare(where, want, spec):
        nonlocal bad, extra, seen
        seen += 1
        if spec is None:
            print(f"MISSING {where}: not in schema")
            bad += 1
            return
        have = set(spec)
        for n in sorted(want - have):
            print(f"SDK-ONLY {where}.{n}")
            bad += 1
        for n in sorted(have - want):
            print(f"SCHEMA-ONLY {where}.{n}")
            extra += 1

    for f in sorted(sdk.glob("*.py")):
        if f.name.startswith("get_") or f.name == "__init__.py":
            continue
        for cls, names in classes(f):
            if not any(cls.lstrip("_").startswith(p) for p in prefixes) or cls.endswith("Dict"):
                continue
            if f.name in ("_inputs.py", "outputs.py"):
                base = cls[:-4] if cls.endswith("Args") else cls
                tok = f"docker:index/{base}:{base}"
                spec = types.get(tok)
                compare(f"{f.name}:{cls} ({tok})", names, spec and spec.get("properties", {}))
                continue
            base = cls.lstrip("_")
            kind = "inputs" if base.endswith("Args") else "state" if base.endswith("State") else "outputs"
            base = re.sub(r"(Args|State)$", "", base)
            if base == "Provider":
                if kind == "outputs":
                    continue  # the SDK's Provider class shows only string outputs
                spec = schema.get("provider", {})
            else:
                spec = res.get(f"docker:index/{lower_first(base)}:{base}")
            if spec is None:
                compare(f"{f.name}:{cls}", names, None)
                continue
            key = {"inputs": "inputProperties", "outputs": "properties"}.get(kind)
            if kind == "state":
                props = (spec.get("stateInputs") or {}).get("properties", {})
            else:
                props = spec.get(key, {})
                if kind == "outputs":
                    names = names - {"urn", "id"}
            compare(f"{f.name}:{cls}", names, props)
    print(f"checked {seen} classes: {bad} missing from the schema, {extra} schema-only")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
