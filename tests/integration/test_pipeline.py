#!/usr/bin/python3
"""The programmable pipeline end to end: multi-table paths with rewrites forward
byte-exact (headers checked in captures), NORMAL learns and forwards between three VMs,
removing a rule stops its traffic within the revalidation bound, trace names the rules,
groups and meters survive a restart."""
import os
import struct
import time
import unittest

from harness import MAC1, MAC2, MAC3, SwitchTestCase

OTHER_MAC = "02:00:00:00:00:99"


def pcap_frames(path):
    """Frames of a classic pcap file, as bytes."""
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    off, frames = 24, []
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        frames.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return frames


def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(":"))


def l3(frame):
    """(vlan vid or None, ethertype, l3 bytes)."""
    etype = struct.unpack("!H", frame[12:14])[0]
    if etype == 0x8100:
        tci, etype = struct.unpack("!HH", frame[14:18])
        return tci & 0xfff, etype, frame[18:]
    return None, etype, frame[14:]


def ip_checksum_ok(ip):
    ihl = (ip[0] & 0xf) * 4
    s = sum(struct.unpack("!%dH" % (ihl // 2), ip[:ihl]))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s == 0xffff


ISSUE_PIPELINE = [
    "table=0,priority=200,in_port=vm1,dl_src=%s,actions=resubmit(,10)" % MAC1,
    "table=0,priority=0,actions=drop",
    "table=10,priority=100,ip,nw_dst=10.0.0.0/24,actions=set_field:%s->eth_dst,dec_ttl,output:vm2" % MAC2,
    "table=10,priority=50,tcp,tp_dst=22,actions=load:0x1->NXM_NX_REG0[],goto_table:20",
    "table=20,reg0=1,actions=mod_vlan_vid:100,output:vm3",
    "table=30,priority=10,actions=NORMAL",
]


class Pipeline(SwitchTestCase):
    def setUp(self):
        super().setUp()
        for vm in ("vm1", "vm2", "vm3"):
            self.vm_port(vm)

    def vms(self):
        return [self.vm_spec("vm1", mac=MAC1), self.vm_spec("vm2", mac=MAC2),
                self.vm_spec("vm3", mac=MAC3)]

    def add_flows(self, flows):
        path = os.path.join(self.dir, "flows.txt")
        with open(path, "w") as f:
            f.write("# the issue's pipeline\n" + "\n".join(flows) + "\n")
        self.sw.ctl("add-flows", path)

    def test_multi_table_rewrites_byte_exact(self):
        self.add_flows(ISSUE_PIPELINE)
        n = 2000
        cap2 = os.path.join(self.dir, "vm2.pcap")
        cap3 = os.path.join(self.dir, "vm3.pcap")
        rep = self.run_traffic(self.vms(), [
            # -> table 10's /24 rule: eth_dst rewritten, TTL decremented, to vm2.
            "--send", "vm1:dst=%s,dst_ip=10.0.0.5,count=%d,rate=50000,size=200,stream=1" % (OTHER_MAC, n),
            # -> ssh, not in the /24: reg0=1, table 20 tags VLAN 100, to vm3.
            "--send", "vm1:dst=%s,dst_ip=10.9.0.5,proto=tcp,dport=22,count=%d,rate=50000,size=300,stream=2" % (OTHER_MAC, n),
            # -> neither: table 10 misses, dropped.
            "--send", "vm1:dst=%s,dst_ip=10.9.0.5,dport=80,count=100,rate=50000,stream=3" % OTHER_MAC,
            "--recv", "vm2:expect=%d,timeout=5" % n, "--recv", "vm3:expect=%d,timeout=5" % n,
            "--capture", "vm2:" + cap2, "--capture", "vm3:" + cap3]).run()
        for vm in ("vm2", "vm3"):
            rx = rep["vms"][vm]["rx"]
            self.assertEqual(rx["valid"], n, (vm, rx, self.sw.drops("vm1")))
            self.assertEqual(rx["bad_payload"], 0)
            self.assertEqual(rx["bad_ip_csum"], 0)
        self.assertEqual(rep["vms"]["vm1"]["rx"]["valid"], 0)

        frames = pcap_frames(cap2)
        self.assertEqual(len(frames), n)
        for fr in frames:
            self.assertEqual(fr[0:6], mac_bytes(MAC2))     # set_field eth_dst
            self.assertEqual(fr[6:12], mac_bytes(MAC1))
            vid, etype, ip = l3(fr)
            self.assertIsNone(vid)
            self.assertEqual(etype, 0x0800)
            self.assertEqual(ip[8], 63)                      # dec_ttl
            self.assertTrue(ip_checksum_ok(ip))
            self.assertEqual(ip[16:20], bytes([10, 0, 0, 5]))
        frames = pcap_frames(cap3)
        self.assertEqual(len(frames), n)
        for fr in frames:
            self.assertEqual(fr[0:6], mac_bytes(OTHER_MAC))  # untouched
            vid, etype, ip = l3(fr)
            self.assertEqual(vid, 100)                       # mod_vlan_vid pushed a tag
            self.assertEqual(etype, 0x0800)
            self.assertEqual(ip[8], 64)
            self.assertEqual(ip[9], 6)
            self.assertEqual(len(fr), 304)

        flows = {(int(f["table"]), int(f["priority"])): int(f["n_packets"])
                 for f in self.sw.json("dump-flows")["flows"]}
        self.assertEqual(flows[(0, 200)], 2 * n + 100)
        self.assertEqual(flows[(10, 100)], n)
        self.assertEqual(flows[(10, 50)], n)
        self.assertEqual(flows[(20, 32768)], n)
        tables = {int(t["table"]): t for t in self.sw.json("dump-tables")["tables"]}
        self.assertEqual(int(tables[10]["lookups"]), 2 * n + 100)
        self.assertEqual(int(tables[10]["matches"]), 2 * n)
        self.assertEqual(int(tables[30]["active"]), 1)
        self.assertEqual(self.sw.drops("vm1").get("flow_drop"), 100)

        # The megaflows un-wildcard what the tables read: not eth_dst (only written).
        dp = self.sw.json("dump-dpflows")["flows"]
        self.assertEqual(len(dp), 3, dp)
        to_vm2 = [f for f in dp if "output:vm2" in f["actions"]]
        self.assertEqual(len(to_vm2), 1, dp)
        m = to_vm2[0]["match"]
        self.assertIn("in_port(vm1)", m)
        self.assertIn("eth(src=%s)" % MAC1, m)
        self.assertIn("dst=10.0.0.0/255.255.255.0", m)
        self.assertIn("ttl=64", m)
        self.assertNotIn("dst=" + MAC2, m)
        self.assertNotIn("proto=", m)
        self.assertEqual(to_vm2[0]["actions"], "set_eth_dst(%s),dec_ttl,output:vm2" % MAC2)

    def test_normal_learns_and_forwards_between_three_vms(self):
        self.sw.ctl("add-flow", "actions=NORMAL")
        # Learning: one broadcast from each VM; each is flooded to the two others.
        rep = self.run_traffic(self.vms(), [
            "--send", "vm1:dst=bcast,count=1,stream=1", "--send", "vm2:dst=bcast,count=1,stream=2",
            "--send", "vm3:dst=bcast,count=1,stream=3",
            "--recv", "vm1:expect=2", "--recv", "vm2:expect=2", "--recv", "vm3:expect=2"]).run()
        for vm in ("vm1", "vm2", "vm3"):
            self.assertEqual(rep["vms"][vm]["rx"]["valid"], 2, (vm, rep["vms"][vm]["rx"]))
        fdb = self.sw.json("fdb-show")["entries"]
        self.assertEqual(sorted((e["port"], e["mac"]) for e in fdb),
                         [("vm1", MAC1), ("vm2", MAC2), ("vm3", MAC3)])
        self.assertIn(MAC2, self.sw.ctl("fdb-show", "vm2"))
        self.assertNotIn(MAC1, self.sw.ctl("fdb-show", "vm2"))

        # Unicast now goes to exactly one VM: exact counts prove nobody else got a copy.
        n = 3000
        rep = self.run_traffic(self.vms(), [
            "--send", "vm1:dst=%s,count=%d,rate=50000,stream=11" % (MAC2, n),
            "--send", "vm2:dst=%s,count=%d,rate=50000,stream=12" % (MAC3, n),
            "--send", "vm3:dst=%s,count=%d,rate=50000,stream=13" % (MAC1, n),
            "--recv", "vm1:expect=%d" % n, "--recv", "vm2:expect=%d" % n,
            "--recv", "vm3:expect=%d" % n]).run()
        for vm in ("vm1", "vm2", "vm3"):
            rx = rep["vms"][vm]["rx"]
            self.assertEqual(rx["valid"], n, (vm, rx))
            self.assertEqual(len(rx["streams"]), 1, rx["streams"])
        # No hairpin: a frame to its own sender's MAC goes nowhere.
        rep = self.run_traffic(self.vms(), [
            "--send", "vm1:dst=%s,count=50,stream=21" % MAC1,
            "--recv", "vm1:expect=0,timeout=1", "--recv", "vm2:expect=0,timeout=1",
            "--recv", "vm3:expect=0,timeout=1"]).run()
        for vm in ("vm1", "vm2", "vm3"):
            self.assertEqual(rep["vms"][vm]["rx"]["valid"], 0)

        # fdb-flush of vm2: its MAC is forgotten, so unicast to it floods (vm3 gets a
        # copy) until vm2 speaks again; then it is learned back and unicast is exact.
        self.assertEqual(self.sw.ctl("fdb-flush", "vm2"), "")
        self.assertEqual(sorted(e["port"] for e in self.sw.json("fdb-show")["entries"]), ["vm1", "vm3"])
        rep = self.run_traffic(self.vms(), [
            "--send", "vm1:dst=%s,count=20,stream=31" % MAC2,
            "--recv", "vm2:expect=20", "--recv", "vm3:expect=20"]).run()
        self.assertEqual(rep["vms"]["vm3"]["rx"]["valid"], 20)
        self.run_traffic(self.vms(), ["--send", "vm2:dst=%s,count=1,stream=32" % MAC1,
                                      "--recv", "vm1:expect=1"]).run()
        rep = self.run_traffic(self.vms(), [
            "--send", "vm1:dst=%s,count=20,stream=33" % MAC2,
            "--recv", "vm2:expect=20", "--recv", "vm3:expect=0,timeout=1"]).run()
        self.assertEqual(rep["vms"]["vm3"]["rx"]["valid"], 0)
        self.assertEqual(rep["vms"]["vm2"]["rx"]["valid"], 20)
        # All of it; an unknown port is an error that changes nothing.
        self.assertEqual(self.sw.json("fdb-flush")["flushed"], 3)
        self.assertEqual(self.sw.json("fdb-show")["entries"], [])
        self.assertIn("no port named 'vm9'", self.sw.ctl_fail("fdb-flush", "vm9"))

    def test_del_dpflows_empties_the_cache_and_keeps_the_counts(self):
        self.sw.ctl("add-flow", "priority=100,in_port=vm1,actions=output:vm2")
        send = ["--send", "vm1:dst=%s,count=200,rate=20000,flows=4,stream=1" % MAC2, "--recv", "vm2:expect=200"]
        rep = self.run_traffic(self.vms(), send).run()
        self.assertEqual(rep["vms"]["vm2"]["rx"]["valid"], 200)
        self.assertGreater(len(self.sw.json("dump-dpflows")["flows"]), 0)
        self.assertGreater(self.sw.json("del-dpflows")["deleted"], 0)
        self.assertEqual(self.sw.json("dump-dpflows")["flows"], [])
        self.assertEqual(int(self.sw.json("dump-flows")["flows"][0]["n_packets"]), 200)   # not lost
        # Traffic goes on: the next packets upcall and install them again.
        rep = self.run_traffic(self.vms(), send).run()
        self.assertEqual(rep["vms"]["vm2"]["rx"]["valid"], 200)
        self.assertGreater(len(self.sw.json("dump-dpflows")["flows"]), 0)
        self.assertEqual(int(self.sw.json("dump-flows")["flows"][0]["n_packets"]), 400)

    def tx(self, port):
        return int(self.sw.port(port)["tx_packets"])

    def test_removed_rule_stops_traffic_within_revalidation_bound(self):
        self.sw.ctl("add-flow", "priority=100,in_port=vm1,actions=output:vm2")
        rate = 20000
        t = self.run_traffic(self.vms(), ["--send", "vm1:dst=%s,rate=%d" % (MAC2, rate), "--recv", "vm2"],
                             duration=12).start()
        time.sleep(1.5)
        self.assertGreater(self.tx("vm2"), 1000)
        # A change in a table the traffic does not look up re-translates none of its
        # megaflows, nor does a rule in table 0 its packets cannot meet (another in_port);
        # one they can meet re-translates them.
        # (The cumulative count: stats passes, which re-translate nothing, run between.)
        def retranslated():
            return int(self.sw.json("pmd-stats")["revalidator"].get("retranslated", 0))
        self.assertGreater(int(self.sw.json("show")["n_megaflows"]), 0)
        r0 = retranslated()
        self.sw.ctl("add-flow", "table=7,priority=1,actions=drop")
        self.assertEqual(retranslated(), r0)
        self.sw.ctl("add-flow", "priority=1,in_port=vm2,actions=drop")
        self.assertEqual(retranslated(), r0)
        # Nor a batch of them (one add-flows, one del-flows: 200 rules each).
        path = os.path.join(self.dir, "batch.txt")
        with open(path, "w") as f:
            for i in range(200):
                f.write("cookie=0x77,priority=2,in_port=vm2,dl_src=02:00:00:00:%02x:%02x,actions=drop\n"
                        % (i >> 8, i & 255))
        self.sw.ctl("add-flows", path)
        self.sw.ctl("del-flows", "cookie=0x77/-1")
        self.assertEqual(retranslated(), r0)
        self.sw.ctl("add-flow", "priority=1,in_port=vm1,actions=drop")
        self.assertGreater(retranslated(), r0)
        # Deleted through the API: the reply comes after revalidation.
        self.sw.ctl("del-flows", "--strict", "priority=100,in_port=vm1")
        a = self.tx("vm2")
        time.sleep(0.5)
        b = self.tx("vm2")
        self.assertLessEqual(b - a, int(rate * 0.15), "traffic still forwarded after del-flows")

        # Removed by its hard timeout (the 100 ms tick, not an API call): traffic stops
        # within the timeout plus the revalidation bound.
        self.sw.ctl("add-flow", "priority=100,hard_timeout=1,in_port=vm1,actions=output:vm2")
        t0 = time.time()
        last, last_change = self.tx("vm2"), t0
        while time.time() - t0 < 3.0:
            time.sleep(0.02)
            now = self.tx("vm2")
            if now != last:
                last, last_change = now, time.time()
        stopped_after = last_change - t0
        self.assertGreater(stopped_after, 0.8, "traffic stopped too early")
        self.assertLess(stopped_after, 1.0 + 0.1 + 0.3, "traffic ran %.3fs after a 1s hard timeout" % stopped_after)
        self.assertEqual(sorted(f["table"] for f in self.sw.json("dump-flows")["flows"]), [0, 0, 7])
        t.stop()
        self.assertAlive()

    def test_emc_bypassed_while_flows_outnumber_it(self):
        # The moves read nw_src and tp_src, so every 5-tuple is a megaflow of its own.
        self.sw.ctl("add-flow", "priority=100,udp,in_port=vm1,actions=move:NXM_OF_IP_SRC[]->NXM_NX_REG0[],"
                    "move:NXM_OF_UDP_SRC[]->NXM_NX_REG2[0..15],output:vm2")
        pmd = lambda: self.sw.json("pmd-stats")["pmds"][0]
        # 30000 flows in turn: far more than the EMC's 8192 entries, so it stops being
        # probed (pmd-stats counts the packets that skipped it) and forwarding goes on.
        t = self.run_traffic(self.vms(), ["--send", "vm1:dst=%s,sport=0,flows=30000,rate=100000" % MAC2,
                                          "--recv", "vm2"], duration=3).start()
        t.wait()
        p = pmd()
        rx, bypassed, hits = int(p["rx_packets"]), int(p.get("emc_bypassed", 0)), int(p.get("emc_hits", 0))
        self.assertGreater(rx, 150000)
        self.assertGreater(bypassed, rx // 2, "EMC not bypassed with 30000 flows: %s" % p)
        self.assertLess(hits, rx // 10)
        self.assertGreaterEqual(self.tx("vm2"), rx - 64)
        # One flow again: the sampled bursts see the EMC hit, and probing resumes.
        self.sw.ctl("pmd-stats", "--clear")
        t = self.run_traffic(self.vms(), ["--send", "vm1:dst=%s,rate=100000" % MAC2, "--recv", "vm2"],
                             duration=3).start()
        t.wait()
        p = pmd()
        rx, bypassed, hits = int(p["rx_packets"]), int(p.get("emc_bypassed", 0)), int(p.get("emc_hits", 0))
        self.assertGreater(rx, 150000)
        self.assertLess(bypassed, rx // 10, "EMC still bypassed with one flow: %s" % p)
        self.assertGreater(hits, rx * 8 // 10)
        self.assertAlive()

    def test_trace_names_the_rules_hit(self):
        self.add_flows(ISSUE_PIPELINE)
        out = self.sw.ctl("trace", "in_port=vm1,dl_src=%s,tcp,nw_src=10.0.0.1,nw_dst=10.9.0.2,tp_dst=22" % MAC1)
        self.assertIn("table 0: priority=200,in_port=vm1,dl_src=%s" % MAC1, out)
        self.assertIn("    table 10: priority=50,tcp,tp_dst=22", out)
        self.assertIn("        load:0x1->NXM_NX_REG0[]", out)
        self.assertIn("    table 20: priority=32768,reg0=0x1", out)
        self.assertIn("Datapath actions: push_vlan(vid=100,pcp=0),output:vm3", out)
        self.assertIn("Megaflow: in_port(vm1)", out)
        out = self.sw.ctl("trace", "in_port=vm2,ip,nw_dst=10.0.0.1")
        self.assertIn("table 0: priority=0, cookie=0x0 actions=drop", out)
        self.assertIn("Datapath actions: drop", out)
        err = self.sw.ctl_fail("trace", "in_port=vm1,nw_dst=10.0.0.1")
        self.assertIn("nw_dst requires ip or arp", err)

    def test_groups_meters_persist_and_drive_traffic(self):
        self.sw.ctl("add-meter", "meter=1,pktps,band=type=drop,rate=1000")
        self.sw.ctl("add-group", "group_id=5,type=all,bucket=output:vm2,bucket=output:vm3")
        self.sw.ctl("add-flow", "in_port=vm1,actions=meter:1,group:5")
        err = self.sw.ctl_fail("add-flow", "in_port=vm2,actions=group:6")
        self.assertIn("group 6 does not exist", err)
        self.sw.stop()
        self.sw.start()
        self.assertIn("group_id=5,type=all,bucket=actions=output:vm2,bucket=actions=output:vm3",
                      self.sw.ctl("dump-groups"))
        self.assertIn("meter=1,pktps,band=type=drop,rate=1000", self.sw.ctl("dump-meters"))
        self.assertIn("actions=meter:1,group:5", self.sw.ctl("dump-flows"))
        # 20000 frames at 10000/s through a 1000 pps meter: about 2 s x 1000 pass (plus
        # the initial burst), each copied to vm2 and vm3.
        rep = self.run_traffic(self.vms(), ["--send", "vm1:dst=%s,count=20000,rate=10000" % MAC2,
                                            "--recv", "vm2", "--recv", "vm3"]).run()
        got2 = rep["vms"]["vm2"]["rx"]["valid"]
        got3 = rep["vms"]["vm3"]["rx"]["valid"]
        self.assertEqual(got2, got3)
        self.assertGreater(got2, 1000)
        self.assertLess(got2, 4500)
        m = self.sw.json("dump-meters")["meters"][0]
        self.assertEqual(int(m["packets_in"]), 20000)
        self.assertEqual(int(m["packets_in"]) - int(m["packets_dropped"]), got2)
        # Deleting the group takes its flow with it.
        self.sw.ctl("del-groups", "group_id=5")
        self.assertEqual(self.sw.json("dump-flows")["flows"], [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
