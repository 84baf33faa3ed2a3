#!/usr/bin/python3
"""ethdev ports by devargs (here net_ring, which loops every tx queue back to the same rx
queue): multiqueue, and queue preservation through a device: vm1 queue q -> up0 tx queue
map(vm1,q) -> up0 rx queue -> vm2."""
import time
import unittest

from harness import MAC1, MAC2, SwitchTestCase


class Ethdev(SwitchTestCase):
    def test_vm_to_ring_uplink_and_back(self):
        self.vm_port("vm1", queues=4)
        self.vm_port("vm2", queues=4)
        self.sw.ctl("add-port", "up0", "type=dpdk", "devargs=net_ring0", "queues=8")
        self.sw.ctl("add-flow", "in_port=vm1,actions=output:up0")
        self.sw.ctl("add-flow", "in_port=up0,actions=output:vm2")
        up0 = self.sw.port("up0")
        self.assertEqual((up0["n_rxq"], up0["n_txq"]), (8, 8))
        self.assertEqual(up0["state"], "up")
        n = 8000
        t = self.run_traffic(
            [self.vm_spec("vm1", queues=4, mac=MAC1), self.vm_spec("vm2", queues=4, mac=MAC2)],
            ["--send", "vm1:dst=%s,count=%d,rate=100000,queues=all,flows=32" % (MAC2, n),
             "--recv", "vm2:expect=%d,timeout=5" % n, "--start-delay", "2"]).start()
        time.sleep(1)
        txmap = {}
        for r in self.sw.json("pmd-rxq-show")["rxqs"]:
            if r["port"] == "vm1":
                txmap[r.get("queue", 0)] = [x.get("txq", 0) for x in r["tx"] if x["port"] == "up0"][0]
        self.assertEqual(len(set(txmap.values())), 4, txmap)
        rep = t.wait()
        self.assertEqual(rep["vms"]["vm2"]["rx"]["valid"], n)
        up0 = self.sw.port("up0")
        vm1 = self.sw.port("vm1")
        sent = {q.get("queue", 0): int(q.get("packets", 0)) for q in vm1["rxq"]}
        uptx = {q.get("queue", 0): int(q.get("packets", 0)) for q in up0["txq"]}
        uprx = {q.get("queue", 0): int(q.get("packets", 0)) for q in up0["rxq"]}
        for q in range(4):
            self.assertGreater(sent[q], 0)
            self.assertEqual(uptx[txmap[q]], sent[q])     # left on the mapped tx queue
            self.assertEqual(uprx[txmap[q]], sent[q])     # net_ring: same queue back
        self.assertEqual(sum(uptx.values()), n)

    def test_del_and_readd_same_device(self):
        for _ in range(3):
            self.sw.ctl("add-port", "up0", "type=dpdk", "devargs=net_ring0", "queues=2")
            self.assertEqual(self.sw.port("up0")["state"], "up")
            self.sw.ctl("del-port", "up0")
        self.assertAlive()


if __name__ == "__main__":
    unittest.main(verbosity=2)
