#!/usr/bin/python3
"""Multiqueue and queue-preserving steering: 4 queues each carrying traffic, each landing
on the tx queue the steering map gives its (port, rx queue), shown by pmd-rxq-show."""
import time
import unittest

from harness import MAC1, MAC2, SwitchTestCase


class Multiqueue(SwitchTestCase):
    def test_four_queues_land_on_mapped_tx_queues(self):
        self.vm_port("vm1", queues=4)
        self.vm_port("vm2", queues=4)
        self.sw.ctl("add-flow", "in_port=vm1,actions=output:vm2")
        per_q = 3000
        t = self.run_traffic(
            [self.vm_spec("vm1", queues=4, mac=MAC1), self.vm_spec("vm2", queues=4, mac=MAC2)],
            ["--send", "vm1:dst=%s,count=%d,rate=100000,queues=all,flows=16" % (MAC2, 4 * per_q),
             "--recv", "vm2:expect=%d,timeout=5" % (4 * per_q), "--start-delay", "2"]).start()
        time.sleep(1)
        # The map, as the switch reports it while the guests are connected.
        rxqs = self.sw.json("pmd-rxq-show")["rxqs"]
        mapping = {}
        for r in rxqs:
            if r["port"] == "vm1":
                self.assertTrue(r["enabled"], r)
                txq = [t for t in r["tx"] if t["port"] == "vm2"][0]
                self.assertFalse(txq.get("shared", False))
                mapping[r.get("queue", 0)] = txq.get("txq", 0)
        self.assertEqual(sorted(mapping.values()), [0, 1, 2, 3], "distinct tx queues")
        rep = t.wait()
        tx = rep["vms"]["vm1"]["tx"]["per_queue"]
        self.assertEqual(len(tx), 4)
        self.assertTrue(all(c > 0 for c in tx), tx)

        # Each vm1 queue's packets arrive on vm2 exactly on the mapped queue.
        streams = rep["vms"]["vm2"]["rx"]["streams"]
        rx_per_q = rep["vms"]["vm2"]["rx"]["per_queue"]
        expect = [0, 0, 0, 0]
        for s in streams:
            self.assertEqual(s["lost"], 0, s)
            expect[mapping[s["txq"]]] += s["valid"]
        self.assertEqual(rx_per_q, expect)
        # Port counters agree: vm2's tx queues carried what vm1's rx queues received.
        vm1 = self.sw.port("vm1")
        vm2 = self.sw.port("vm2")
        rxq = {q.get("queue", 0): int(q.get("packets", 0)) for q in vm1["rxq"]}
        txq = {q.get("queue", 0): int(q.get("packets", 0)) for q in vm2["txq"]}
        for q in range(4):
            self.assertEqual(rxq[q], tx[q])
            self.assertEqual(txq[mapping[q]], rxq[q])
        self.assertEqual(sum(int(p["tx_shared_locks"]) for p in self.sw.pmd()), 0)
        # The load window: every busy queue's cycles are recent (the switch started
        # seconds ago), and the shares of one PMD's busy cycles add up to 100%.
        show = self.sw.json("pmd-rxq-show")
        self.assertGreater(float(show["window_s"]), 0)
        self.assertLess(float(show["window_s"]), 70)
        busy = [r for r in show["rxqs"] if r["port"] == "vm1"]
        for r in busy:
            self.assertGreater(int(r["recent_cycles"]), 0, r)
            self.assertLessEqual(int(r["recent_cycles"]), int(r["cycles"]), r)
        self.assertAlmostEqual(sum(float(r.get("usage_pct", 0)) for r in show["rxqs"]), 100.0, places=3)
        self.assertIn("usage: share of each PMD's busy cycles in the last", self.sw.ctl("pmd-rxq-show"))

    def test_only_guest_enabled_queues_are_used(self):
        # The switch offers 4 queues, the guest brings up 2: tx goes to those 2 only.
        self.vm_port("vm1", queues=4)
        self.vm_port("vm2", queues=4)
        self.sw.ctl("add-flow", "in_port=vm1,actions=output:vm2")
        n = 4000
        t = self.run_traffic(
            [self.vm_spec("vm1", queues=4, mac=MAC1), self.vm_spec("vm2", queues=2, mac=MAC2)],
            ["--send", "vm1:dst=%s,count=%d,rate=100000,queues=all" % (MAC2, n),
             "--recv", "vm2:expect=%d,timeout=5" % n, "--start-delay", "2"]).start()
        time.sleep(1)
        vm2 = self.sw.port("vm2")
        enabled = [q.get("queue", 0) for q in vm2["txq"] if q.get("enabled")]
        self.assertEqual(enabled, [0, 1])
        rep = t.wait()
        self.assertEqual(rep["vms"]["vm2"]["rx"]["valid"], n)
        vm2 = self.sw.port("vm2")
        used = [q.get("queue", 0) for q in vm2["txq"] if int(q.get("packets", 0)) > 0]
        self.assertEqual(used, [0, 1])


if __name__ == "__main__":
    unittest.main(verbosity=2)
