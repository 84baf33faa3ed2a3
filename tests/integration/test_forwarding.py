#!/usr/bin/python3
"""VM <-> VM forwarding by flows, byte-exact, and flow changes applied to traffic that is
already flowing (revalidation)."""
import os
import time
import unittest

from harness import MAC1, MAC2, SwitchTestCase


class Forwarding(SwitchTestCase):
    def setUp(self):
        super().setUp()
        self.vm_port("vm1")
        self.vm_port("vm2")

    def test_flows_forward_byte_exact_both_ways(self):
        self.sw.ctl("add-flow", "priority=100,in_port=vm1,actions=output:vm2")
        self.sw.ctl("add-flow", "priority=100,in_port=vm2,dl_type=0x0800,nw_dst=10.0.0.0/24,actions=output:vm1")
        n = 20000
        rep = self.run_traffic(
            [self.vm_spec("vm1", mac=MAC1), self.vm_spec("vm2", mac=MAC2)],
            ["--send", "vm1:dst=%s,count=%d,rate=200000,size=128,stream=1" % (MAC2, n),
             "--send", "vm2:dst=%s,dst_ip=10.0.0.9,count=%d,rate=200000,size=1000,stream=2" % (MAC1, n),
             "--recv", "vm2:expect=%d,timeout=5" % n, "--recv", "vm1:expect=%d,timeout=5" % n]).run()
        for vm in ("vm1", "vm2"):
            rx = rep["vms"][vm]["rx"]
            self.assertEqual(rx["valid"], n, (vm, rx, self.sw.drops("vm1"), self.sw.drops("vm2")))
            self.assertEqual(rx["bad_payload"], 0)
            self.assertEqual(rx["lost"], 0)
        flows = self.sw.json("dump-flows")["flows"]
        self.assertEqual(sorted(int(f["n_packets"]) for f in flows), [n, n])
        dp = self.sw.json("dump-dpflows")["flows"]
        self.assertEqual(len(dp), 2, dp)
        # The megaflow of vm2's flow un-wildcards exactly what the table looked at.
        m = [f["match"] for f in dp if "in_port(vm2)" in f["match"]][0]
        self.assertIn("eth_type(0x800)", m)
        self.assertIn("dst=10.0.0.0/255.255.255.0", m)
        self.assertNotIn("eth(", m)

    def test_no_flow_means_drop_counted(self):
        n = 500
        rep = self.run_traffic(
            [self.vm_spec("vm1", mac=MAC1), self.vm_spec("vm2", mac=MAC2)],
            ["--send", "vm1:dst=%s,count=%d,rate=50000" % (MAC2, n),
             "--recv", "vm2:expect=0,timeout=1"]).run()
        self.assertEqual(rep["vms"]["vm2"]["rx"]["valid"], 0)
        self.assertEqual(self.sw.drops("vm1").get("flow_drop"), n)

    def test_flow_change_applies_to_running_traffic(self):
        self.sw.ctl("add-flow", "priority=100,in_port=vm1,actions=output:vm2")
        t = self.run_traffic(
            [self.vm_spec("vm1", mac=MAC1), self.vm_spec("vm2", mac=MAC2)],
            ["--send", "vm1:dst=%s,rate=20000" % MAC2, "--recv", "vm2"], duration=6).start()
        time.sleep(1.5)
        before = int(self.sw.port("vm2")["tx_packets"])
        self.assertGreater(before, 1000)
        # Higher-priority drop: must stop the flow that is already cached (EMC + megaflow).
        self.sw.ctl("add-flow", "priority=200,in_port=vm1,actions=drop")
        a = int(self.sw.port("vm2")["tx_packets"])
        time.sleep(1.0)
        b = int(self.sw.port("vm2")["tx_packets"])
        self.assertLessEqual(b - a, 64, "traffic still forwarded after the drop flow")
        self.assertGreater(self.sw.drops("vm1").get("flow_drop", 0), 1000)
        # Deleting it restores forwarding.
        self.sw.ctl("del-flows", "--strict", "priority=200,in_port=vm1")
        time.sleep(1.0)
        c = int(self.sw.port("vm2")["tx_packets"])
        self.assertGreater(c - b, 5000)
        t.stop()
        self.assertAlive()


class CacheFull(SwitchTestCase):
    start_switch = False

    def test_full_megaflow_cache_still_forwards_in_order(self):
        from harness import Switchd
        self.sw = Switchd(self.dir, extra_args=["--max-megaflows", "16"]).start()
        self.vm_port("vm1")
        self.vm_port("vm2")
        # Exact-match flows on the UDP source port: 64 flows need 64 megaflows.
        for sport in range(1024, 1024 + 64):
            self.sw.ctl("add-flow", "priority=10,udp,in_port=vm1,tp_src=%d,actions=output:vm2" % sport)
        n = 20000
        rep = self.run_traffic(
            [self.vm_spec("vm1", mac=MAC1), self.vm_spec("vm2", mac=MAC2)],
            ["--send", "vm1:dst=%s,count=%d,rate=100000,flows=64" % (MAC2, n),
             "--recv", "vm2:expect=%d,timeout=5" % n]).run()
        rx = rep["vms"]["vm2"]["rx"]
        self.assertEqual((rx["valid"], rx["reordered"], rx["lost"]), (n, 0, 0), rx)
        pmd = self.sw.json("pmd-stats")
        self.assertGreater(int(pmd["pmds"][0]["megaflow_full"]), 0)
        self.assertLessEqual(int(pmd["revalidator"]["megaflows"]), 16)

    def test_a_capacity_beyond_memory_is_a_clear_error(self):
        """--max-megaflows or --mbufs that do not fit DPDK's memory: switchd says which
        and exits 1 (before, an uncaught exception or rte_panic aborted it, exit 134)."""
        import subprocess
        from harness import SWITCHD

        def start(*opts):
            return subprocess.run([SWITCHD, "--pmd-cores", "1", "--control-socket", os.path.join(self.dir, "big.sock"),
                                   "--db", "none", *opts,
                                   "--eal", "--no-huge -m 1024 --file-prefix vswbig%d" % os.getpid()],
                                  capture_output=True, text=True, timeout=60)
        r = start("--max-megaflows", "100000000")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("switchd: cannot start the datapath: megaflow signature table: no memory for 4096 MiB "
                      "(DPDK heap)", r.stderr)
        r = start("--mbufs", "1000000")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("switchd: cannot start the datapath: cannot create the mbuf pool (1000000 mbufs): ", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
