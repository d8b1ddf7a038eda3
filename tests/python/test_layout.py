"""The Python reader knows every dataset the C++ writer names (hlprojlayout.h) and the schema
documents describe (HLPROJ.md, SCHEMA-ADDITIONS.md), with as many axes as the documented shape.
A name added there and not here fails this test."""

import os
import re
import unittest

import hltest  # exits 77 without numpy/h5py

from headlens import layout

SRC = hltest.SOURCE_DIR
HEADER = os.path.join(SRC, "modules", "project", "src", "hlprojlayout.h")
PROJECT_H = os.path.join(SRC, "modules", "project", "include", "headlens", "project",
                         "project.h")
TRACE_CPP = os.path.join(SRC, "modules", "trace", "src", "trace.cpp")
ADDITIONS = os.path.join(SRC, "modules", "project", "SCHEMA-ADDITIONS.md")
HLPROJ = os.path.join(os.environ.get("HEADLENS_SHARED_DIR", os.path.join(SRC, "..", "shared")),
                      "design", "HLPROJ.md")


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def site_names():
    m = re.search(r"kSiteNames\s*(?:\[[^\]]*\]|=)?[^{]*\{([^}]*)\}", read(TRACE_CPP))
    return re.findall(r'"(\w+)"', m.group(1))


def header_paths():
    """Every dataset path hlprojlayout.h spells: constants, metric tables and the per-site
    functions (their string expressions evaluated for every site)."""
    text = read(HEADER)
    consts = dict(re.findall(r'constexpr const char \*(\w+) = "([^"]+)";', text))
    # groups and attributes: not datasets
    paths = {v for k, v in consts.items() if not k.endswith(("Group", "Attr"))}
    paths |= set(re.findall(r'\{"([^"]+)", &Trace::', text))
    funcs = dict(re.findall(r"inline std::string (\w+)\(Site s\)\s*\{\s*return (.*?);\s*\}",
                            text, re.S))

    def evaluate(expr, site):
        out = ""
        for term in (t.strip() for t in expr.split("+")):
            lit = re.fullmatch(r'(?:std::string\()?"([^"]*)"\)?', term)
            call = re.fullmatch(r"(\w+)\(s\)", term)
            if lit:
                out += lit.group(1)
            elif call and call.group(1) == "siteName":
                out += site
            elif call and call.group(1) in funcs:
                out += evaluate(funcs[call.group(1)], site)
            else:
                raise AssertionError(f"hlprojlayout.h: cannot read the expression '{term}'")
        return out

    for expr in funcs.values():
        paths |= {evaluate(expr, s) for s in site_names()}
    # A name that others extend is a group, not a dataset.
    return {p for p in paths if not any(q.startswith(p + "/") for q in paths)}


def rank(shape):
    return len([d for d in shape.strip("[]").split(",") if d.strip()])


def doc_tables(text):
    """(heading, names, shape) for every row of every table whose first column names datasets
    and whose shape column is a `[...]` shape; the heading is the nearest ## or ### above, and
    "per metric" marks the stats table of the per-metric child groups."""
    rows, heading, per_metric = [], "", False
    for line in text.splitlines():
        if line.startswith("#"):
            heading, per_metric = line, False
        elif line.startswith("One child group per metric"):
            per_metric = True
        elif line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            shapes = [m for c in cells[1:] for m in re.findall(r"`(\[[^\]]*\])`", c)]
            if not shapes or cells[0].startswith("attribute"):
                continue
            names = re.findall(r"`([^`]+)`", cells[0])
            rows.append((heading, per_metric, names, shapes[0]))
    return rows


def expand_sites(path):
    return [path.replace("<site>", s) for s in site_names()] if "<site>" in path else [path]


class Layout(unittest.TestCase):
    def assertKnown(self, table, path, n_axes, where):
        axes = layout.axes_of(table, path)
        self.assertIsNotNone(axes, f"{where} names dataset {path}; headlens/layout.py lacks it")
        if n_axes is not None:
            self.assertEqual(len(axes), n_axes, f"{path}: {where} gives {n_axes} axes, "
                                                f"headlens/layout.py {axes}")

    def test_constants_match_the_cpp_reader(self):
        text = read(PROJECT_H)
        self.assertEqual(layout.FORMAT, re.search(r'kProjectFormat = "([^"]+)"', text).group(1))
        self.assertEqual(layout.SCHEMA_VERSION,
                         int(re.search(r"kProjectSchemaVersion = (\d+)", text).group(1)))
        self.assertEqual(list(layout.SITES), site_names())

    def test_every_dataset_of_the_header(self):
        paths = header_paths()
        self.assertGreater(len(paths), 30)  # the parse found the header's names
        for path in sorted(paths):
            self.assertKnown(layout.TRACE_DATASETS, path, None, "hlprojlayout.h")

    def test_every_attribute_of_the_header(self):
        consts = dict(re.findall(r'constexpr const char \*(\w+) = "([^"]+)";', read(HEADER)))
        attrs = {v for k, v in consts.items() if k.endswith("Attr")}
        self.assertGreater(len(attrs), 1)
        for name in sorted(attrs):
            self.assertIn(name, layout.TRACE_ATTRIBUTES,
                          f"hlprojlayout.h names attribute {name}; headlens/layout.py lacks it")

    def test_every_dataset_of_hlproj_md(self):
        if not os.path.exists(HLPROJ):
            self.skipTest("shared/design/HLPROJ.md is not beside the source tree")
        text = read(HLPROJ)
        rows = doc_tables(text)
        self.assertGreater(len(rows), 15)
        for heading, _, names, shape in rows:
            for name in names:
                for path in expand_sites(name):
                    self.assertKnown(layout.TRACE_DATASETS, path, rank(shape), "HLPROJ.md")
        pairs = re.search(r"`pairs` int32 `(\[[^\]]*\])`", text)
        self.assertKnown(layout.COMPARISON_DATASETS, "pairs", rank(pairs.group(1)), "HLPROJ.md")

    def test_every_dataset_of_schema_additions(self):
        rows = doc_tables(read(ADDITIONS))
        kinds = {}  # analysis kind -> whether it covers several traces
        for heading, per_metric, names, shape in rows:
            kind = re.match(r"### `(\w+)", heading)
            for name in names:
                if heading.startswith("## `/comparisons"):
                    self.assertKnown(layout.COMPARISON_DATASETS, name, rank(shape),
                                     "SCHEMA-ADDITIONS.md")
                elif kind:
                    kinds[kind.group(1)] = "per trace only" not in heading
                    path = kind.group(1) + ("/*/" if per_metric or kind.group(1) == "decompose"
                                            else "/") + name
                    self.assertKnown(layout.ANALYSIS_DATASETS, path, rank(shape),
                                     "SCHEMA-ADDITIONS.md")
                elif heading.startswith("## Analysis results"):
                    scoped = (heading, name, shape)
                else:
                    self.assertKnown(layout.TRACE_DATASETS, name, rank(shape),
                                     "SCHEMA-ADDITIONS.md")
        self.assertEqual(set(kinds),
                         {"decompose", "stats", "correlations", "head_similarity", "head_roles"})
        _, name, shape = scoped  # the `traces` dataset of every group that covers traces
        for kind, covers in kinds.items():
            if covers:
                self.assertKnown(layout.ANALYSIS_DATASETS, f"{kind}/{name}", rank(shape),
                                 "SCHEMA-ADDITIONS.md")

    def test_head_roles_names_of_the_header(self):
        # The head-roles analysis is spelled in hlprojlayout.h as a group, its role datasets
        # (headRoleName) and the names of HeadRolesNames; each is known here.
        text = read(HEADER)
        kind = re.search(r'kHeadRolesGroup = "(\w+)"', text).group(1)
        self.assertEqual(kind, layout.HEAD_ROLES)
        roles = re.search(r"kRoleNames\[kHeadRoleCount\] = \{([^}]*)\}",
                          read(os.path.join(SRC, "modules", "trace", "src", "headroles.cpp")))
        names = re.findall(r'"(\w+)"', roles.group(1))
        struct = re.search(r"struct HeadRolesNames \{(.*?)\};", text, re.S).group(1)
        datasets = re.findall(r'\*(\w+) = "(\w+)";\s*// \[', struct)
        self.assertEqual(len(names), 5)
        self.assertEqual(len(datasets), 2)
        for name in names + [d for _, d in datasets]:
            self.assertKnown(layout.ANALYSIS_DATASETS, f"{kind}/{name}", None, "hlprojlayout.h")

    def test_a_missing_name_fails(self):
        # The check above is only as good as its failure: take a name away and it must fail.
        trimmed = {k: v for k, v in layout.ANALYSIS_DATASETS.items() if k != "stats/*/head_std"}
        with self.assertRaises(AssertionError):
            self.assertKnown(trimmed, "stats/contrib_norm/head_std", 2, "test")


if __name__ == "__main__":
    hltest.main()
