#!/usr/bin/env python3
"""Checks the operator documentation against the code, so the two cannot drift apart
silently. No build needed; reads the source tree.

    python3 tests/docs/check_docs.py [--root DIR]

Checks (exit 1 and one line per problem if any fails):
  1. links   relative links and #anchors in docs/*.md resolve (files and GitHub-style
             heading anchors); fenced code is ignored.
  2. index   docs/README.md links every docs/*.md.
  3. drops   every drop reason of switch/drop_reasons.h has a row in the user guide's
             drop table, and every row there is a real reason.
  4. ports   every port option the drivers accept (opt_known lists in
             switch/vhost_port.cc, switch/ethdev_port.cc) has a row in the user guide's
             option tables, with the range opt_uint() enforces; no row for an unknown one.
  5. options every switchd long option (ctl/switchd/main.cc) is in the user guide; every
             `--option` the guide/architecture/troubleshooting pages mention is known to
             switchd, switchctl, vmtraffic, DPDK EAL or another tool named below.
  6. commands every `switchctl CMD` in those pages is a switchctl command (ctl/api/cli_args.cc).
  7. messages the messages the pages quote still exist in the code (MESSAGES below).
  8. store    every field of the persistent state (ctl/proto/store.proto StoredState) is
             mentioned in the user guide's "Persistence and restarts" section.
"""
import argparse
import glob
import os
import re
import sys

OWN_DOCS = ["docs/user-guide.md", "docs/architecture.md", "docs/troubleshooting.md", "docs/README.md",
            "docs/overlay.md"]

# Option spellings that belong to other programs the pages show (EAL, QEMU, tools).
EXTERNAL_OPTIONS = {
    # DPDK EAL
    "--no-huge", "--socket-mem", "--file-prefix", "--lcores", "--no-pci", "--huge-dir",
    "--huge-unlink", "--allow", "--block", "--log-level", "--iova-mode", "--no-telemetry",
    "--vdev", "--pci-whitelist",
    # switchctl
    "--socket", "--format", "--timeout", "--help", "--strict", "--clear",
    # scripts, systemctl
    "--bench", "--now",
    # ctest / misc
    "--output-on-failure",
    # libvirt / kernel / systemd never use -- in these pages; extend here if they do
}

# Fragments of messages the pages quote, each of which must occur in the code (C++ or
# scripts) under the given root. When a check fails, the message changed: update the
# page that quotes it, then this list.
MESSAGES = [
    # switchctl / API client
    "(is switchd running?)",
    "(run as root or as a member of the socket's group)",
    " waiting for a reply from switchd",
    "(use --timeout to wait longer)",
    "cannot connect to ",
    "is not a number in ",
    "cannot attach '",
    "unknown option for this port type (known: ",
    "must be a power of two",
    "is already used by another port",
    "a vhost-user port needs path=SOCKET",
    "is not a valid port name (1-32 of [A-Za-z0-9_.-], not starting with a digit)",
    "no port named '",
    "device offers at most ",
    "not saved, port not added: ",
    "is kept for port '",
    "journaled flow not restored: ",
    # overlay
    " has no MAC address to use as the VTEP's",
    "' is not the uplink (set-uplink first)",
    "' is the uplink (del-uplink first)",
    "' exists and is not a ",
    # switchd
    "switchd: EAL arguments: %s",
    "EAL initialisation failed",
    "see the EAL messages above",
    "cannot create the mbuf pool (",
    "switchd: cannot start the datapath: %s",
    "megaflow signature table: no memory for ",
    "pmd-cores: EAL lcore ",
    "is not a CPU list",
    "--max-megaflows >= 16, --mbufs >= 4096, --megaflow-max-idle > 0",
    "another server is already listening on ",
    " exists and is not a socket; refusing to replace it",
    "unknown group '",
    " is not a valid switchd state file (move it away to start empty)",
    "unsupported state format version ",
    "switchd: restored %zu ports and %zu flows from %s",
    "switchd: stored port %s not restored (kept in the state file): %s",
    "switchd: stored flow not restored: %s: %s",
    "switchd: ready, %zu PMD(s), API on %s",
    " rx queue(s) moved between ",
    " PMD(s) by measured cycles",
    # datapath logs (USER1)
    "port %s: guest connected (vid %d, %u vrings)",
    "port %s: guest disconnected (vid %d)",
    "port %s: guest has %u queue pairs, only %u configured (queues=)",
    "port %s: guest vring size %u (ring-size=%u expected)",
    "port %s: device refused mtu %u",
    # scripts
    "hugepages: only $free of $want pages free",
    "install-deps: all ",
]

SOURCE_GLOBS = ["switch/*.cc", "switch/*.h", "ctl/**/*.cc", "ctl/**/*.h", "ofproto/*.cc",
                "ctl/scripts/*.sh"]


def read(root, rel):
    with open(os.path.join(root, rel), encoding="utf-8") as f:
        return f.read()


def strip_code(md):
    """Markdown without fenced code blocks (links and headings inside them don't count)."""
    out, fence = [], False
    for line in md.splitlines():
        if line.lstrip().startswith("```"):
            fence = not fence
            continue
        if not fence:
            out.append(line)
    return "\n".join(out)


def slug(heading):
    s = heading.strip().lower()
    s = re.sub(r"[`*_]{2,}", "", s)           # bold markers; keep single underscores
    s = s.replace("`", "")
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def anchors(md):
    seen, out = {}, set()
    for line in strip_code(md).splitlines():
        m = re.match(r"^#{1,6}\s+(.*)$", line)
        if not m:
            continue
        base = slug(m.group(1))
        n = seen.get(base, 0)
        out.add(base if n == 0 else "%s-%d" % (base, n))
        seen[base] = n + 1
    return out


def check_links(root, rel, problems):
    md = read(root, rel)
    text = strip_code(md)
    text = re.sub(r"`[^`]*`", "", text)        # inline code is not a link
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"^[a-z]+://", target) or target.startswith("mailto:"):
            continue
        path, _, frag = target.partition("#")
        dest = os.path.normpath(os.path.join(os.path.dirname(rel), path)) if path else rel
        if not os.path.exists(os.path.join(root, dest)):
            problems.append("%s: link to missing file %s" % (rel, target))
            continue
        if frag and dest.endswith(".md") and frag not in anchors(read(root, dest)):
            problems.append("%s: link to missing anchor %s" % (rel, target))


def drop_reasons(root):
    src = read(root, "switch/drop_reasons.h")
    body = src[src.index("drop_reason_name"):]
    return re.findall(r'case DropReason::\w+: return "([a-z_]+)";', body)


def table_rows(md, section_heading):
    """First cell (without backticks) of every row of the tables under a heading, up to
    the next heading of the same or a higher level."""
    lines = md.splitlines()
    start = None
    level = 0
    for i, l in enumerate(lines):
        m = re.match(r"^(#{1,6})\s+(.*)$", l)
        if m and m.group(2).strip() == section_heading:
            start, level = i + 1, len(m.group(1))
            break
    if start is None:
        return None
    rows = {}
    for l in lines[start:]:
        m = re.match(r"^(#{1,6})\s", l)
        if m and len(m.group(1)) <= level:
            break
        if l.startswith("|") and not re.match(r"^\|[-| :]+\|$", l):
            cells = [c.strip() for c in l.strip().strip("|").split("|")]
            rows[cells[0].strip("`")] = cells
    return rows


def port_options(root, rel):
    src = read(root, rel)
    known = re.search(r"opt_known\([^,]+,\s*\{([^}]*)\}", src)
    names = re.findall(r'"([a-z-]+)"', known.group(1)) if known else []
    ranges = {}
    consts = {"kMaxQueues": "32"}
    for key, lo, hi in re.findall(r'opt_uint\([^,]+,\s*"([a-z-]+)",\s*(\w+),\s*(\w+),', src):
        ranges[key] = "%s..%s" % (consts.get(lo, lo), consts.get(hi, hi))
    return names, ranges


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    root = os.path.abspath(ap.parse_args().root)
    problems = []

    # 1. links
    for rel in OWN_DOCS:
        check_links(root, rel, problems)

    # 2. index
    index = read(root, "docs/README.md")
    for path in sorted(glob.glob(os.path.join(root, "docs", "*.md"))):
        name = os.path.basename(path)
        if name != "README.md" and "(%s)" % name not in index:
            problems.append("docs/README.md: %s is not in the index" % name)

    guide = read(root, "docs/user-guide.md")
    own_text = "\n".join(read(root, r) for r in OWN_DOCS)

    # 3. drop reasons
    reasons = drop_reasons(root)
    rows = table_rows(guide, "Drop reasons")
    if rows is None:
        problems.append("docs/user-guide.md: no '### Drop reasons' section")
    else:
        documented = {k for k in rows if re.match(r"^[a-z_]+$", k) and k != "reason"}
        for r in reasons:
            if r not in documented:
                problems.append("docs/user-guide.md: drop reason %s (switch/drop_reasons.h) is not in the table" % r)
        for r in sorted(documented - set(reasons)):
            problems.append("docs/user-guide.md: drop table lists %s, which is not a drop reason" % r)

    # 4. port options
    for src, heading in (("switch/vhost_port.cc", "vhost-user ports"),
                         ("switch/ethdev_port.cc", "dpdk ports (VFs, PFs, software devices)")):
        names, ranges = port_options(root, src)
        rows = table_rows(guide, heading)
        if rows is None:
            problems.append("docs/user-guide.md: no section '%s'" % heading)
            continue
        opts = {k: v for k, v in rows.items() if k != "option" and re.match(r"^[a-z-]+$", k)}
        for n in names:
            if n not in opts:
                problems.append("docs/user-guide.md: %s option %s (%s) is not documented" % (heading, n, src))
            elif n in ranges and ranges[n] not in " ".join(opts[n]):
                problems.append("docs/user-guide.md: %s option %s: range should be %s" % (heading, n, ranges[n]))
        for n in sorted(set(opts) - set(names)):
            problems.append("docs/user-guide.md: %s documents option %s, which %s does not accept" % (heading, n, src))

    # 5. options
    main_cc = read(root, "ctl/switchd/main.cc")
    switchd_opts = set("--" + o for o in re.findall(r'\{"([a-z-]+)",\s*(?:required|no)_argument', main_cc))
    for o in sorted(switchd_opts):
        if o not in guide:
            problems.append("docs/user-guide.md: switchd option %s is not documented" % o)
    vmt = set(re.findall(r'"(--[a-z-]+)"', read(root, "tests/tools/vmtraffic/options.cc")))
    known = switchd_opts | vmt | EXTERNAL_OPTIONS
    for o in sorted(set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*[a-z])", own_text))):
        if o not in known:
            problems.append("docs: option %s is not known to switchd, switchctl, vmtraffic or EAL" % o)

    # 6. switchctl commands
    cli = read(root, "ctl/api/cli_args.cc")
    commands = set(re.findall(r'\{\{"([a-z-]+)",', cli))
    code = "\n".join(re.findall(r"`([^`\n]+)`", own_text))   # inline code spans
    for rel in OWN_DOCS:                                       # and fenced code
        fence = False
        for line in read(root, rel).splitlines():
            if line.lstrip().startswith("```"):
                fence = not fence
            elif fence:
                code += "\n" + line
    pat = r"(?:^|[\s$(])switchctl (?:--[a-z]+(?:[ =][^\s]+)? )*([a-z][a-z-]+)"
    for c in sorted(set(re.findall(pat, code, re.M))):
        if c not in commands:
            problems.append("docs: 'switchctl %s' is not a switchctl command" % c)

    # 7. messages
    corpus = ""
    for g in SOURCE_GLOBS:
        for path in glob.glob(os.path.join(root, g), recursive=True):
            with open(path, encoding="utf-8", errors="replace") as f:
                corpus += f.read()
    for m in MESSAGES:
        if m not in corpus:
            problems.append("code: message fragment %r is gone; update the docs that quote it" % m)

    # 8. persistent state
    store = read(root, "ctl/proto/store.proto")
    body = store[store.index("message StoredState"):]
    body = body[:body.index("}")]
    fields = [f for f in re.findall(r"^\s*(?:repeated\s+)?[\w.]+\s+(\w+)\s*=", body, re.M) if f != "version"]
    lines = guide.splitlines()
    try:
        i = lines.index("## Persistence and restarts")
        j = next(k for k in range(i + 1, len(lines)) if lines[k].startswith("## "))
        section = "\n".join(lines[i:j]).lower()
    except (ValueError, StopIteration):
        section = ""
        problems.append("docs/user-guide.md: no '## Persistence and restarts' section")
    for f in fields:
        if section and f.lower() not in section:
            problems.append("docs/user-guide.md: stored field %s (ctl/proto/store.proto) is not described under Persistence" % f)

    for p in problems:
        print(p)
    if problems:
        print("check_docs: %d problem(s)" % len(problems))
        return 1
    print("check_docs: ok (%d drop reasons, %d switchd options, %d commands, %d messages)" % (
        len(reasons), len(switchd_opts), len(commands), len(MESSAGES)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
