#!/usr/bin/python3
"""The two vhost-user copy paths (vring=native, the default, and vring=rte_vhost) forward
the same traffic byte-exact: small frames (the burst fast path), jumbo frames (chained
mbufs from the guest, mergeable buffers into it) and a mix in one burst; and a bad
option value is refused."""
import unittest

from harness import MAC1, MAC2, SwitchTestCase


class CopyPaths(SwitchTestCase):
    def forward_mixed_sizes(self, vring):
        for vm in ("vm1", "vm2"):
            self.vm_port(vm, mtu=9000, vring=vring)
        self.sw.ctl("add-flow", "priority=100,in_port=vm1,actions=output:vm2")
        self.sw.ctl("add-flow", "priority=100,in_port=vm2,actions=output:vm1")
        n = 3000
        rep = self.run_traffic(
            [self.vm_spec("vm1", mac=MAC1), self.vm_spec("vm2", mac=MAC2)],
            ["--send", "vm1:dst=%s,count=%d,rate=50000,size=64,stream=1" % (MAC2, n),
             "--send", "vm1:dst=%s,count=%d,rate=20000,size=9000,stream=2,sport=2000" % (MAC2, n),
             "--send", "vm2:dst=%s,count=%d,rate=50000,size=1500,stream=3" % (MAC1, n),
             "--send", "vm2:dst=%s,count=%d,rate=20000,size=4000,stream=4,sport=4000" % (MAC1, n),
             "--recv", "vm2:expect=%d,timeout=10" % (2 * n),
             "--recv", "vm1:expect=%d,timeout=10" % (2 * n)]).run()
        for vm in ("vm1", "vm2"):
            rx = rep["vms"][vm]["rx"]
            drops = (self.sw.drops("vm1"), self.sw.drops("vm2"))
            self.assertEqual(rx["valid"], 2 * n, (vring, vm, rx, drops))
            self.assertEqual(rx["bad_payload"], 0, (vring, vm, rx))
            self.assertEqual(rx["lost"], 0, (vring, vm, rx))
        for vm in ("vm1", "vm2"):
            self.assertEqual(self.sw.drops(vm), {}, (vring, vm))

    def test_native_forwards_small_and_jumbo_frames_byte_exact(self):
        self.forward_mixed_sizes("native")

    def test_rte_vhost_forwards_small_and_jumbo_frames_byte_exact(self):
        self.forward_mixed_sizes("rte_vhost")

    def test_guest_without_mergeable_buffers_drops_what_does_not_fit_counted(self):
        # vm2's virtio-user takes 2 KiB receive buffers and no mergeable buffers: its 4000-byte
        # frames cannot be delivered. They are dropped as tx_guest_buffer_small, counted
        # as the queue's drops and not as sent; everything else arrives.
        for vm in ("vm1", "vm2"):
            self.vm_port(vm, mtu=9000)
        self.sw.ctl("add-flow", "priority=100,in_port=vm1,actions=output:vm2")
        n, m = 2000, 300
        rep = self.run_traffic(
            [self.vm_spec("vm1", mac=MAC1), self.vm_spec("vm2", mac=MAC2) + ",mrg_rxbuf=0"],
            ["--send", "vm1:dst=%s,count=%d,rate=20000,size=1000,stream=1" % (MAC2, n),
             "--send", "vm1:dst=%s,count=%d,rate=5000,size=4000,stream=2,sport=2000" % (MAC2, m),
             "--recv", "vm2:expect=%d,timeout=5" % n]).run()
        rx = rep["vms"]["vm2"]["rx"]
        self.assertEqual(rx["valid"], n, rx)
        self.assertEqual(rx["bad_payload"], 0, rx)
        self.assertEqual(self.sw.drops("vm2"), {"tx_guest_buffer_small": m})
        p = self.sw.port("vm2")
        self.assertEqual(int(p["tx_packets"]), n, p)
        self.assertEqual(int(p["tx_bytes"]), n * 1000, p)
        self.assertEqual(sum(int(q.get("drops", 0)) for q in p["txq"]), m, p)

    def test_guest_asking_for_packed_rings_gets_split_rings(self):
        # The native path does not offer packed rings; a guest that would use them
        # negotiates split rings instead and forwards as usual.
        for vm in ("vm1", "vm2"):
            self.vm_port(vm)
        self.sw.ctl("add-flow", "priority=100,in_port=vm1,actions=output:vm2")
        n = 2000
        rep = self.run_traffic(
            [self.vm_spec("vm1", mac=MAC1) + ",packed_vq=1", self.vm_spec("vm2", mac=MAC2) + ",packed_vq=1"],
            ["--send", "vm1:dst=%s,count=%d,rate=20000,size=256,stream=1" % (MAC2, n),
             "--recv", "vm2:expect=%d,timeout=5" % n]).run()
        rx = rep["vms"]["vm2"]["rx"]
        self.assertEqual(rx["valid"], n, (rx, self.sw.drops("vm1"), self.sw.drops("vm2")))

    def stalled_guest(self, vring):
        # vm2 never reads its rx ring. Once its buffers are used up, a burst for it finds
        # no room and is dropped tx_full at the first attempt: no retry, since a retry
        # only follows an attempt that took packets. At most the burst that filled the
        # ring retries (once: its retry takes nothing). Retrying regardless would make
        # 8 attempts per dropped burst here, thousands in all.
        for vm in ("vm1", "vm2"):
            self.vm_port(vm, vring=vring)
        self.sw.ctl("add-flow", "priority=100,in_port=vm1,actions=output:vm2")
        n = 5000
        self.run_traffic(
            [self.vm_spec("vm1", mac=MAC1), self.vm_spec("vm2", mac=MAC2) + ",rx=0,ring=256"],
            ["--send", "vm1:dst=%s,count=%d,rate=100000,size=64,stream=1" % (MAC2, n)]).run()
        p = self.sw.port("vm2")
        delivered = int(p["tx_packets"])
        self.assertGreater(delivered, 0, p)
        self.assertLessEqual(delivered, 256, p)
        self.assertEqual(self.sw.drops("vm2"), {"tx_full": n - delivered}, (vring, p))
        retries = sum(int(q.get("retries", 0)) for q in p["txq"])
        self.assertLessEqual(retries, 2, (vring, p))

    def test_native_stalled_guest_costs_no_retries(self):
        self.stalled_guest("native")

    def test_rte_vhost_stalled_guest_costs_no_retries(self):
        self.stalled_guest("rte_vhost")

    def test_unknown_copy_path_is_refused(self):
        out = self.sw.ctl_fail("add-port", "vm3", "type=vhost-user", "path=" + self.sock("vm3"),
                               "vring=zerocopy")
        self.assertIn("vring", out)
        self.assertNotIn("vm3", [p["name"] for p in self.sw.json("show")["ports"]])


if __name__ == "__main__":
    unittest.main()
