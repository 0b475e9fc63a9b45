#!/usr/bin/env python3
"""Module import cycles inside crates: prints each cycle, exits 1 if there is one.

   scripts/module-cycles.py dhcp api ...   (crate folders; default: every workspace crate)

A file-level module M depends on module N when M's code names N by a path: `crate::n::…`,
`super::…`, `self::n::…`, `use` trees of those, or a bare `n::…` for a child module n. The
deepest module a path reaches counts; the crate root (re-exports and wiring) and `tests`
modules are left out.
Two modules that name each other, directly or around a longer loop, are a cycle: the
module layout then no longer says which one builds on the other.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def modules(src):
    mods = {}
    for dirpath, _, files in os.walk(src):
        for f in files:
            if not f.endswith(".rs"):
                continue
            rel = os.path.relpath(os.path.join(dirpath, f), src)[:-3].split(os.sep)
            if rel[-1] in ("mod", "lib", "main"):
                rel = rel[:-1]
            if "tests" in rel or "bin" in rel[:1]:
                continue
            mods[tuple(rel)] = os.path.join(dirpath, f)
    return mods


def strip(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r'r#*"(?:.|\n)*?"#*', '""', text)
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', text)
    # Inline test modules name everything; they are not part of the layout.
    m = re.search(r"#\[cfg\(test\)\]\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+tests\s*\{", text)
    return text[: m.start()] if m else text


def resolve(mods, parts):
    best = None
    for i in range(len(parts) + 1):
        if tuple(parts[:i]) in mods:
            best = tuple(parts[:i])
    return best


def use_paths(tree):
    """The paths of a `use` tree: `a::{b, c::{d, e}}` -> a::b, a::c::d, a::c::e."""
    tree = tree.strip()
    i = tree.find("{")
    if i < 0:
        return [tree.split(" as ")[0].strip().rstrip(":").removesuffix("::*")]
    prefix, body = tree[:i], tree[i + 1 : tree.rfind("}")]
    items, depth, cur = [], 0, ""
    for ch in body:
        depth += ch == "{"
        depth -= ch == "}"
        if ch == "," and depth == 0:
            items.append(cur)
            cur = ""
        else:
            cur += ch
    items.append(cur)
    out = []
    for item in items:
        if item.strip() in ("", "self"):
            out.append(prefix.rstrip(":"))
        elif item.strip():
            out += [prefix + p for p in use_paths(item)]
    return out


def paths(text):
    for u in re.finditer(r"\buse\s+([^;]+);", text):
        yield from use_paths(u.group(1))
    code = re.sub(r"\buse\s+[^;]+;", "", text)
    for g in re.finditer(r"\b((?:crate|super|self|[a-z_][a-z0-9_]*)(?:::[a-z_][a-z0-9_]*)+)", code):
        yield g.group(1)


def edges(mods):
    out = {m: set() for m in mods}
    for m, path in mods.items():
        text = strip(open(path, encoding="utf-8").read())
        children = {k[-1] for k in mods if len(k) == len(m) + 1 and k[: len(m)] == m}
        for p in paths(text):
            parts = [x for x in re.sub(r"\s+", "", p).split("::") if x]
            if not parts:
                continue
            head = parts[0]
            if head == "crate":
                target = parts[1:]
            elif head in ("super", "self"):
                base = list(m)
                while parts and parts[0] in ("super", "self"):
                    if parts.pop(0) == "super":
                        base = base[:-1]
                target = base + parts
            elif head in children:
                target = list(m) + parts
            else:
                continue
            n = resolve(mods, target)
            # The crate root is the crate's face (re-exports, wiring), not a layer.
            if n is not None and n != m and n != ():
                out[m].add(n)
    return out


def cycles(graph):
    index, low, stack, on, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def main():
    crates = sys.argv[1:]
    if not crates:
        crates = sorted(
            d for d in os.listdir(ROOT) if os.path.isfile(os.path.join(ROOT, d, "Cargo.toml")) and os.path.isdir(os.path.join(ROOT, d, "src"))
        ) + ["."]
    bad = 0
    for c in crates:
        src = os.path.join(ROOT, c, "src")
        for comp in cycles(edges(modules(src))):
            bad += 1
            names = [("::".join(m) or "(crate root)") for m in comp]
            print(f"{c}: import cycle among {', '.join(names)}")
    if not bad:
        print(f"no module import cycles in {', '.join(crates)}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
