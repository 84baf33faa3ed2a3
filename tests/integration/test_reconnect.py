#!/usr/bin/python3
"""Guests going away and coming back; switchd restarting with client-mode ports."""
import time
import unittest

from harness import MAC1, MAC2, SwitchTestCase


def send_recv(n):
    return ["--send", "vm1:dst=%s,count=%d,rate=50000" % (MAC2, n),
            "--recv", "vm2:expect=%d,timeout=5" % n]


class Reconnect(SwitchTestCase):
    def test_vm_disconnect_and_reconnect_traffic_resumes(self):
        # Switch is the server: the VM (client) goes away and comes back.
        self.vm_port("vm1")
        self.vm_port("vm2")
        self.sw.ctl("add-flow", "in_port=vm1,actions=output:vm2")
        vms = [self.vm_spec("vm1", mac=MAC1), self.vm_spec("vm2", mac=MAC2)]
        for rnd in range(3):
            rep = self.run_traffic(vms, send_recv(2000)).run()
            self.assertEqual(rep["vms"]["vm2"]["rx"]["valid"], 2000, "round %d" % rnd)
            time.sleep(0.5)
            self.assertEqual(self.sw.port("vm1")["state"], "down")
        self.assertAlive()

    def test_client_mode_port_reconnects_to_restarted_vm(self):
        # Switch is the client (the VM owns the socket): librte_vhost reconnects.
        self.vm_port("vm1", mode="client")
        self.vm_port("vm2", mode="client")
        self.sw.ctl("add-flow", "in_port=vm1,actions=output:vm2")
        vms = [self.vm_spec("vm1", mac=MAC1, server=True), self.vm_spec("vm2", mac=MAC2, server=True)]
        for rnd in range(2):
            rep = self.run_traffic(vms, send_recv(2000), wait_link=30).run()
            self.assertEqual(rep["vms"]["vm2"]["rx"]["valid"], 2000, "round %d" % rnd)
        self.assertAlive()

    def test_switchd_restart_restores_ports_and_flows_and_reconnects(self):
        self.vm_port("vm1", mode="client")
        self.vm_port("vm2", mode="client")
        self.sw.ctl("add-flow", "priority=10,in_port=vm1,actions=output:vm2")
        # VMs stay up (servers) across the switch restart, sending all the time.
        t = self.run_traffic(
            [self.vm_spec("vm1", mac=MAC1, server=True), self.vm_spec("vm2", mac=MAC2, server=True)],
            ["--send", "vm1:dst=%s,rate=20000" % MAC2, "--recv", "vm2"],
            duration=14, wait_link=30).start()
        time.sleep(2)
        self.assertGreater(int(self.sw.port("vm2")["tx_packets"]), 1000)
        ports_before = [(p["name"], p["port_no"]) for p in self.sw.json("show")["ports"]]
        self.sw.stop()
        time.sleep(1)
        self.sw.start()
        show = self.sw.json("show")
        self.assertEqual([(p["name"], p["port_no"]) for p in show["ports"]], ports_before)
        self.assertEqual([f["match"] for f in self.sw.json("dump-flows")["flows"]], ["in_port=vm1"])
        deadline = time.time() + 15
        while time.time() < deadline and int(self.sw.port("vm2")["tx_packets"]) < 1000:
            time.sleep(0.5)
        self.assertGreater(int(self.sw.port("vm2")["tx_packets"]), 1000, "traffic did not resume")
        rep = t.wait()
        self.assertEqual(rep["vms"]["vm2"]["rx"]["bad_payload"], 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
