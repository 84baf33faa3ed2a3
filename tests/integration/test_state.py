#!/usr/bin/python3
"""Persistent state: what could not be restored is kept, a corrupt state file stops the
start instead of being overwritten, and VPC and flow changes go to the journal (one
record each, not a rewrite of the whole file), survive a crash, a torn last record and
compaction, and replay in the order they were acknowledged."""
import time
import os
import shutil
import subprocess
import unittest

from harness import SWITCHD, Switchd, SwitchTestCase


def vpc_state(sw):
    """What must come back after a restart: the VPC rules (with cookies) and the VPCs."""
    flows = sorted((f["cookie"], f["table"], f["priority"], f["match"], f["actions"])
                   for f in sw.json("dump-flows")["flows"])
    return flows, sw.ctl("vpc", "show")


def all_flows(sw):
    """Every rule as dump-flows shows it, without counters and ages."""
    return sorted((f["cookie"], f["table"], f["priority"], f["match"], f["actions"])
                  for f in sw.json("dump-flows")["flows"])


def is_vpc_rule(f):
    return int(str(f[0]), 0) >> 56 == 0x56


def add_endpoints(sw, first, n):
    for i in range(first, first + n):
        sw.ctl("vpc", "add-endpoint", "blue", "mac=52:54:00:00:01:%02x" % i, "ip=10.1.0.%d" % (20 + i),
               "host=192.0.2.%d" % (2 + i % 3))


class State(SwitchTestCase):
    def start_with_vm1_kept(self, flows):
        """vm1 (its socket in a directory that goes away) and vm2, then `flows`, then a
        restart that cannot restore vm1: it is kept in the state file. Returns the
        directory, for the test to create again."""
        d = os.path.join(self.dir, "sub")
        os.mkdir(d)
        self.sw.ctl("add-port", "vm1", "type=vhost-user", "mode=server", "path=" + os.path.join(d, "vm1.sock"))
        self.vm_port("vm2")
        for f in flows:
            self.sw.ctl("add-flow", f)
        self.sw.stop()
        shutil.rmtree(d)                                 # vm1's socket cannot be created now
        self.sw.start()
        return d

    def test_unrestorable_port_is_kept_and_comes_back(self):
        d = self.start_with_vm1_kept(["in_port=vm1,actions=output:vm2"])
        self.assertEqual([p["name"] for p in self.sw.json("show")["ports"]], ["vm2"])
        self.assertIn("kept in the state file", self.sw.log())
        # The flow naming vm1 was journaled: replayed, refused, kept.
        self.assertIn("journaled flow not restored: in_port=vm1,actions=output:vm2", self.sw.log())
        self.assertIn("(1 ports, 1 flows kept unrestored)", self.sw.log())
        self.sw.ctl("add-flow", "in_port=vm2,actions=drop")   # journaled, after the kept one
        # The kept port keeps its number: not given to another port, asked for or not.
        err = self.sw.ctl_fail("add-port", "vm4", "type=vhost-user", "mode=server",
                               "path=" + self.sock("vm4"), "port_no=1")
        self.assertIn("port_no 1 is kept for port 'vm1' (in the state file, not restored)", err)
        self.vm_port("vm3")             # a port change writes the snapshot: the kept ones go in it
        self.assertEqual(self.sw.port("vm3")["port_no"], 3)
        self.assertEqual(int(self.sw.json("show")["db_journal_records"]), 0)
        self.sw.stop()
        os.mkdir(d)
        self.sw.start()
        self.assertEqual([p["name"] for p in self.sw.json("show")["ports"]], ["vm1", "vm2", "vm3"])
        self.assertEqual(sorted(f["match"] for f in self.sw.json("dump-flows")["flows"]),
                         ["in_port=vm1", "in_port=vm2"])

    def test_replace_flows_drops_the_kept_flows_too(self):
        d = self.start_with_vm1_kept(["in_port=vm1,actions=output:vm2", "in_port=vm2,actions=drop"])
        self.assertIn("(1 ports, 1 flows kept unrestored)", self.sw.log())
        # FILE is the whole set: the kept flow of vm1 goes with the others.
        path = os.path.join(self.dir, "flows.txt")
        with open(path, "w") as f:
            f.write("priority=5,in_port=vm2,actions=drop\n")
        d_run = self.sw.json("diff-flows", path)      # says so first
        self.assertEqual((d_run["added"], d_run["deleted"]), (1, 2), d_run)
        self.assertIn("-in_port=vm1,actions=output:vm2", d_run["diff"])
        r = self.sw.json("replace-flows", path)
        self.assertEqual((r["added"], r["deleted"], r["unchanged"]), (1, 2, 0), r)
        self.sw.kill()
        os.mkdir(d)
        self.sw.start()
        self.assertEqual([p["name"] for p in self.sw.json("show")["ports"]], ["vm1", "vm2"])
        self.assertEqual([(f["priority"], f["match"]) for f in self.sw.json("dump-flows")["flows"]],
                         [(5, "in_port=vm2")])

    def test_a_port_added_under_a_kept_name_takes_its_place(self):
        d = os.path.join(self.dir, "sub")
        os.mkdir(d)
        self.sw.ctl("add-port", "vm0", "type=vhost-user", "mode=server", "path=" + self.sock("vm0"))
        self.sw.ctl("add-port", "vm1", "type=vhost-user", "mode=server", "path=" + os.path.join(d, "vm1.sock"))
        self.sw.stop()
        shutil.rmtree(d)
        self.sw.start()
        self.assertIn("(1 ports, 0 flows kept unrestored)", self.sw.log())
        self.vm_port("vm1")                                  # a path that works now
        self.assertEqual(self.sw.port("vm1")["port_no"], 2)  # the kept one's number
        self.sw.stop()
        self.sw.start()
        self.assertIn("restored 2 ports and 0 flows", self.sw.log().split("---- start")[-1])
        self.assertIn("(0 ports, 0 flows kept unrestored)", self.sw.log().split("---- start")[-1])
        self.assertEqual([(p["name"], p["port_no"]) for p in self.sw.json("show")["ports"]], [("vm0", 1), ("vm1", 2)])

    def test_corrupt_state_file_refuses_to_start(self):
        self.sw.stop()
        with open(self.sw.db, "wb") as f:
            f.write(b"\xde\xad\xbe\xef not a state file")
        r = subprocess.run([SWITCHD, "--pmd-cores", "1", "--control-socket", self.sw.sock, "--db", self.sw.db,
                            "--eal", "--no-huge -m 512 --file-prefix %s" % self.sw.prefix],
                           capture_output=True, text=True, timeout=60)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("not a valid switchd state file", r.stderr)
        with open(self.sw.db, "rb") as f:
            self.assertTrue(f.read().startswith(b"\xde\xad\xbe\xef"))


    def test_vpc_changes_are_journaled_and_survive_a_crash(self):
        sw = self.sw
        sw.ctl("add-port", "up0", "type=dpdk", "devargs=net_null0,no-rx=1")   # the whole state is saved
        snapshot = os.path.getsize(sw.db)
        sw.ctl("add-flow", "priority=1,actions=drop")     # a flow change: one record
        sw.ctl("vpc", "create", "blue", "vni=5001")
        sw.ctl("vpc", "add-subnet", "blue", "10.1.0.0/24", "dns=10.1.0.2,8.8.8.8")
        sw.ctl("vpc", "bind", "blue", "vm1", "mac=52:54:00:00:00:01", "ip=10.1.0.11")   # pending: no port
        add_endpoints(sw, 1, 5)
        sw.ctl("vpc", "del-endpoint", "blue", "mac=52:54:00:00:01:03")
        sw.ctl("--generation", "7", "vpc", "add-rule", "blue", "vm1", "ingress", "tcp", "22")
        self.assertEqual(os.path.getsize(sw.db), snapshot)    # appended, not rewritten
        show = sw.json("show")
        self.assertEqual(int(show["db_journal_records"]), 11)
        self.assertEqual(int(show["db_snapshot_bytes"]), snapshot)
        self.assertIn("journal 11 records", sw.ctl("show"))
        before = vpc_state(sw)
        self.assertEqual(len([f for f in before[0] if int(f[0]) >> 56 != 0x56]), 1)   # + VPC rules
        self.assertIn("generation 7", before[1])

        sw.kill()
        sw.start()
        self.assertIn("replayed 11 of 11 changes", sw.log())
        self.assertEqual(vpc_state(sw), before)

        # A crash in the middle of an append leaves a torn record: dropped (it was never
        # acknowledged), the rest replayed, and the next change follows the last whole one.
        sw.kill()
        with open(sw.db + ".journal", "ab") as f:
            f.write(b"\x40\x00\x00\x00\x01\x02")
        sw.start()
        self.assertIn("dropped a torn last record (6 bytes, never acknowledged)", sw.log())
        self.assertEqual(vpc_state(sw), before)
        add_endpoints(sw, 9, 1)
        after = vpc_state(sw)
        self.assertNotEqual(after, before)
        sw.stop()
        sw.start()
        self.assertIn("replayed 12 of 12 changes", sw.log())
        self.assertEqual(vpc_state(sw), after)

        # A damaged record that is not the last refuses the start; the files stay.
        sw.stop()
        with open(sw.db + ".journal", "rb") as f:
            data = bytearray(f.read())
        data[8 + 8 + 2] ^= 0x40
        with open(sw.db + ".journal", "wb") as f:
            f.write(data)
        r = subprocess.run([SWITCHD, "--pmd-cores", "1", "--control-socket", sw.sock, "--db", sw.db,
                            "--eal", "--no-huge -m 512 --file-prefix %s" % sw.prefix],
                           capture_output=True, text=True, timeout=60)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("damaged record at byte 8", r.stderr)
        with open(sw.db + ".journal", "rb") as f:
            self.assertEqual(f.read(), bytes(data))

    def test_flow_changes_are_journaled_and_replay_in_order(self):
        sw = self.sw
        self.vm_port("vm1")
        self.vm_port("vm2")
        snapshot = os.path.getsize(sw.db)
        sw.ctl("add-flow", "priority=10,in_port=vm1,actions=output:vm2")
        sw.ctl("add-flow", "table=5,priority=7,ip,nw_dst=10.0.0.0/8,actions=drop")
        sw.ctl("vpc", "create", "blue", "vni=5001")        # VPC records between flow records
        sw.ctl("vpc", "add-subnet", "blue", "10.1.0.0/24", "dns=10.1.0.2")   # in the DHCP rule of vm1
        sw.ctl("vpc", "bind", "blue", "vm1", "mac=52:54:00:00:00:01", "ip=10.1.0.11")
        add_endpoints(sw, 1, 1)
        sw.ctl("mod-flows", "--strict", "priority=10,in_port=vm1,actions=output:in_port")
        sw.ctl("add-flow", "priority=10,in_port=vm2,actions=output:vm1")
        sw.ctl("del-flows", "--strict", "table=5,priority=7,ip,nw_dst=10.0.0.0/8")
        sw.ctl("add-flow", "table=5,priority=7,ip,nw_dst=10.0.0.0/8,actions=output:vm2")   # after its delete
        sw.ctl("add-flow", "table=9,priority=3,hard_timeout=1,actions=drop")
        deadline = time.time() + 10
        while any(f[1] == 9 for f in all_flows(sw)):
            self.assertLess(time.time(), deadline, "the hard_timeout=1 flow did not expire")
            time.sleep(0.2)
        # A del-flows that takes VPC rules along: they come back, live and after replay.
        vpc_rules = [f for f in all_flows(sw) if is_vpc_rule(f)]
        self.assertIn(0, [f[1] for f in vpc_rules])
        sw.ctl("del-flows", "table=0")
        sw.ctl("add-flow", "priority=20,in_port=vm2,actions=drop")
        # replace-flows: one record, the VPC rules left alone; diff-flows shows what it
        # does first, and nothing after.
        path = os.path.join(self.dir, "replace.txt")
        with open(path, "w") as f:
            f.write("# the flows we want\n"
                    "priority=20,in_port=vm2,actions=drop\n"
                    "table=5,priority=7,ip,nw_dst=10.0.0.0/8,actions=drop\n"
                    "table=7,priority=1,actions=drop\n")
        self.assertEqual(sw.ctl("diff-flows", path).splitlines(), [
            "-table=5,priority=7,ip,nw_dst=10.0.0.0/8 actions=output:vm2",
            "+table=5,priority=7,ip,nw_dst=10.0.0.0/8 actions=drop",
            "+table=7,priority=1 actions=drop"])
        self.assertEqual(int(sw.json("show")["db_journal_records"]), 14)   # a dry run
        self.assertEqual(sw.ctl("replace-flows", path), "")
        self.assertEqual(sw.ctl("diff-flows", path), "")
        # dump-flows output, VPC rules and counters included, reads back as the same flows.
        dump = os.path.join(self.dir, "dump.txt")
        with open(dump, "w") as f:
            f.write(sw.ctl("dump-flows"))
        self.assertEqual(sw.ctl("diff-flows", dump), "")
        self.assertEqual(sw.json("diff-flows", dump)["skipped"], len(vpc_rules))
        self.assertEqual(os.path.getsize(sw.db), snapshot)    # appended, not rewritten
        # 2 adds, 4 VPC changes, mod, add, del, add, timed add, its expiry, del, add, replace
        self.assertEqual(int(sw.json("show")["db_journal_records"]), 15)
        before = all_flows(sw)
        self.assertEqual([f for f in before if is_vpc_rule(f)], vpc_rules)
        self.assertEqual([(f[1], f[2], f[3], f[4]) for f in before if not is_vpc_rule(f)],
                         [(0, 20, "in_port=vm2", "drop"), (5, 7, "ip,nw_dst=10.0.0.0/8", "drop"),
                          (7, 1, "", "drop")])

        sw.kill()
        sw.start()
        self.assertIn("replayed 15 of 15 changes", sw.log())
        self.assertEqual(all_flows(sw), before)

    def test_a_flow_change_that_cannot_be_saved_is_refused_and_taken_back(self):
        # The state file on a small tmpfs, filled up: the journal cannot take a record
        # that needs a new page, and the snapshot written instead cannot be either.
        self.sw.stop()
        small = os.path.join(self.dir, "small")
        os.mkdir(small)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", small], check=True)
        try:
            self.sw = sw = Switchd(self.dir)
            sw.db = os.path.join(small, "state.db")
            sw.start()
            self.vm_port("vm1")
            sw.ctl("add-flow", "priority=5,in_port=vm1,actions=drop")
            before = all_flows(sw)
            filler = os.open(os.path.join(small, "filler"), os.O_WRONLY | os.O_CREAT)
            try:
                while True:
                    os.write(filler, b"\0" * 4096)
            except OSError:
                pass
            big = ["table=1,priority=%d,ip,nw_src=10.0.%d.%d,actions=drop" % (i, i // 250, i % 250)
                   for i in range(1, 200)]
            flows_file = os.path.join(self.dir, "flows.txt")
            with open(flows_file, "w") as f:
                f.write("\n".join(big) + "\n")
            err = sw.ctl_fail("add-flows", flows_file)
            self.assertIn("not saved, flows not added", err)
            self.assertEqual(all_flows(sw), before)        # taken back, counters' rules included
            many = ",".join("load:0x%x->NXM_NX_REG0[]" % i for i in range(300))   # a record of pages
            err = sw.ctl_fail("mod-flows", "in_port=vm1,actions=" + many)
            self.assertIn("not saved, flows not modified", err)
            self.assertEqual(all_flows(sw), before)
            os.close(filler)
            os.unlink(os.path.join(small, "filler"))
            sw.ctl("add-flow", "priority=6,in_port=vm1,actions=drop")   # room again: saved
            after = all_flows(sw)
            self.assertEqual(len(after), 2)
            sw.kill()
            sw.start()
            self.assertEqual(all_flows(sw), after)
        finally:
            self.sw.stop()
            subprocess.run(["umount", small])

    def test_journal_is_compacted_into_the_snapshot(self):
        self.sw.stop()
        # A journal of at most 400 bytes: every few changes the whole state is written.
        self.sw = sw = Switchd(self.dir, extra_args=["--db-journal-max", "400"])
        sw.start()
        sw.ctl("vpc", "create", "blue", "vni=5001")
        sw.ctl("vpc", "add-subnet", "blue", "10.1.0.0/24")
        records, snapshots = [], set()
        for i in range(1, 21):
            add_endpoints(sw, i, 1)
            show = sw.json("show")
            records.append(int(show.get("db_journal_records", 0)))
            snapshots.add(int(show["db_snapshot_bytes"]))
            self.assertLessEqual(int(show["db_journal_bytes"]), 400 + 200)
        self.assertIn(0, records)                  # compacted: the snapshot took the journal
        self.assertGreater(max(records), 2)
        self.assertGreater(len(snapshots), 2)      # the snapshot grew with the endpoints
        before = vpc_state(sw)
        sw.kill()
        sw.start()
        self.assertEqual(vpc_state(sw), before)
        self.assertEqual(before[1].count("add-endpoint"), 20)


if __name__ == "__main__":
    unittest.main(verbosity=2)
