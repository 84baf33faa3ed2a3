#!/usr/bin/python3
"""Ports added and removed at runtime while traffic runs: the running flows lose nothing,
and output to a removed port is counted, never crashes."""
import time
import unittest

from harness import MAC1, MAC2, SwitchTestCase


class PortsUnderTraffic(SwitchTestCase):
    def test_add_remove_ports_while_forwarding(self):
        self.vm_port("vm1", queues=2)
        self.vm_port("vm2", queues=2)
        self.sw.ctl("add-flow", "priority=10,in_port=vm1,actions=output:vm2")
        rate, secs = 20000, 10
        t = self.run_traffic(
            [self.vm_spec("vm1", queues=2, mac=MAC1), self.vm_spec("vm2", queues=2, mac=MAC2)],
            ["--send", "vm1:dst=%s,rate=%d,queues=all" % (MAC2, rate), "--recv", "vm2:min=1"],
            duration=secs).start()
        time.sleep(1)
        for i in range(5):
            # An ethdev port (net_null drops what it is sent) and a vhost-user port nobody
            # connects to, both fed by a copy of vm1's traffic, then removed again.
            self.sw.ctl("add-port", "null%d" % i, "type=dpdk", "devargs=net_null%d,no-rx=1" % i, "queues=2")
            self.vm_port("vm3", queues=4)
            self.sw.ctl("add-flow", "priority=20,in_port=vm1,actions=output:vm2,output:null%d,output:vm3" % i)
            time.sleep(0.4)
            self.assertGreater(int(self.sw.port("null%d" % i)["tx_packets"]), 0)
            self.sw.ctl("del-port", "vm3")
            self.sw.ctl("del-port", "null%d" % i)
            time.sleep(0.2)
            self.sw.ctl("del-flows", "--strict", "priority=20,in_port=vm1")
        rep = t.wait()
        rx = rep["vms"]["vm2"]["rx"]
        sent = rep["vms"]["vm1"]["tx"]["packets"]
        self.assertGreater(sent, rate * (secs - 2))
        # vm2 saw every frame, in order, intact, while ports came and went around it.
        self.assertEqual(rx["valid"], sent, rx)
        self.assertEqual(rx["lost"] + rx["bad_payload"] + rx["reordered"], 0, rx)
        pmd = self.sw.pmd()[0]
        self.assertGreater(int(pmd["drops"].get("tx_queue_disabled", 0)), 0)   # vm3: no guest
        self.assertAlive()
        self.assertEqual([p["name"] for p in self.sw.json("show")["ports"]], ["vm1", "vm2"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
